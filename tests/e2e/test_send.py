"""End-to-end tests of qmail-start / qmail-send with the real helpers:
local delivery, bounces (single, double, triple), queue lifetime and
rejuvenation, ALRM, HUP, TERM, deferred remote recipients kept in remote/."""
import email
import os
import signal
import subprocess
import time

import evq


def qq(t, msg, sender, rcpts):
    """Queues one message through bin/qmail-queue with an exact envelope."""
    t.queue(msg, sender, rcpts)


def wait_until(ts, what):
    evq.wait_for(lambda: time.time() >= ts, timeout=ts - time.time() + 5, what=what)


class SendTest(evq.TreeTest):

    def setUp(self):
        super().setUp()
        self.joe = self.t.add_user("joe")
        self.md = os.path.join(self.joe, "Maildir")

    def messages(self):
        return [email.message_from_bytes(m.as_bytes()) for m in self.t.maildir(self.md)]

    def test_local_delivery_and_bounce(self):
        t = self.t
        t.start()
        qq(t, "Subject: hello\n\nbody\n", "joe@test.example", ["joe@test.example", "nobody@test.example"])
        t.wait_maildir(self.md, 2)
        t.wait_queue_empty()
        msgs = self.messages()
        bounce = [m for m in msgs if m["Subject"] == "failure notice"]
        self.assertEqual(len(bounce), 1)
        b = bounce[0]
        self.assertEqual(b["From"], "MAILER-DAEMON@test.example")
        self.assertEqual(b["To"], "joe@test.example")
        self.assertEqual(b["Return-Path"], "<>")
        body = b.get_payload()
        self.assertIn("Hi. This is the qmail-send program at test.example.\n"
                      "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
                      "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
                      "<nobody@test.example>:\n", body)
        self.assertIn("--- Below this line is a copy of the message.\n\n"
                      "Return-Path: <joe@test.example>\nReceived: (qmail ", body)
        self.assertTrue(body.endswith("Subject: hello\n\nbody\n"))
        log = t.log()
        self.assertRegex(log, r"info msg \d+: bytes \d+ from <joe@test.example> qp \d+ uid \d+\n")
        self.assertRegex(log, r"starting delivery \d+: msg \d+ to local joe@test.example\n")
        self.assertRegex(log, r"delivery \d+: success: did_")
        self.assertRegex(log, r"delivery \d+: failure: ")
        self.assertRegex(log, r"bounce msg \d+ qp \d+\n")
        self.assertRegex(log, r"end msg \d+\n")

    def test_double_and_triple_bounce(self):
        t = self.t
        t.control("doublebounceto", "joe\n")
        t.start()
        qq(t, "Subject: orig\n\nx\n", "", ["nobody@test.example"])
        t.wait_maildir(self.md, 1)
        b = self.messages()[0]
        self.assertEqual(b["To"], "joe@test.example")
        self.assertIn("I tried to deliver a bounce message to this address, but the bounce bounced!\n\n"
                      "<nobody@test.example>:\n", b.get_payload())
        self.assertIn("--- Below this line is the original bounce.\n\nReturn-Path: <>\n", b.get_payload())
        qq(t, "Subject: orig2\n\nx\n", "#@[]", ["nobody@test.example"])
        t.wait_log(r"triple bounce: discarding bounce/\d+\n")
        t.wait_queue_empty()
        self.assertEqual(t.maildir_count(self.md), 1)

    def test_lifetime_rejuvenation_and_alrm(self):
        t = self.t
        t.control("queuelifetime", "4\n")
        t.dot_qmail(self.joe, "-defer", "|exit 111\n")
        t.start()
        qq(t, "Subject: slow\n\nx\n", "joe@test.example", ["joe-defer@test.example"])
        t.wait_log(r"delivery \d+: deferral: ")
        info = [os.path.join(r, f) for r, _, fs in os.walk(t.path("queue", "info")) for f in fs]
        self.assertEqual(len(info), 1)
        b0 = int(os.stat(info[0]).st_mtime)
        wait_until(b0 + 2, "two seconds of age")
        os.utime(info[0])  # rejuvenate (FAQ 7.3)
        b1 = int(os.stat(info[0]).st_mtime)
        wait_until(b0 + 5, "past the original lifetime")
        t.signal(signal.SIGALRM)  # retry now
        t.wait_log(r"delivery \d+: deferral: ", count=2)
        self.assertNotIn("failure", t.log())
        wait_until(b1 + 6, "past the renewed lifetime")  # +1: time(2) is a coarse clock
        t.signal(signal.SIGALRM)
        t.wait_log(r"delivery \d+: failure: .*I'm_not_going_to_try_again")
        t.wait_maildir(self.md, 1)
        self.assertIn("I'm not going to try again; this message has been in the queue too long.",
                      self.messages()[0].get_payload())
        t.wait_queue_empty()

    def test_hup_rereads_virtualdomains(self):
        t = self.t
        t.dot_qmail(self.joe, "-default", "./Maildir/\n")
        t.start()
        t.control("virtualdomains", "virt.example:joe\n")
        t.signal(signal.SIGHUP)
        # A message queued after the HUP is handled after it: use one to sync.
        qq(t, "Subject: sync\n\nx\n", "joe@test.example", ["joe@test.example"])
        t.wait_maildir(self.md, 1)
        qq(t, "Subject: virt\n\nx\n", "joe@test.example", ["info@virt.example"])
        t.wait_maildir(self.md, 2)
        self.assertRegex(t.log(), r"to local joe-info@virt.example\n")

    def test_malformed_control_files(self):
        """A malformed control file stops qmail-send from starting with a clear
        alert (the queue is untouched); on HUP it keeps the controls it has."""
        t = self.t
        qq(t, "Subject: waits\n\nx\n", "joe@test.example", ["joe@test.example"])
        t.control("concurrencylocal", "ten\n")
        p = subprocess.run([t.path("bin", "qmail-start"), "./Maildir/"], cwd="/", env=t.env(),
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 111)
        self.assertIn(b"alert: cannot start: unable to read controls", p.stdout + p.stderr)
        self.assertFalse(t.queue_empty())
        self.assertEqual(t.maildir_count(self.md), 0)
        t.control("concurrencylocal", "10\n")
        t.start()
        t.wait_maildir(self.md, 1)
        t.control("queuelifetime", "forever\n")
        t.control("virtualdomains", "virt.example:joe\n")
        t.signal(signal.SIGHUP)
        t.wait_log(r"alert: unable to reread controls")
        # The old controls stay in force: virt.example is still not ours.
        qq(t, "Subject: after\n\nx\n", "joe@test.example", ["joe@test.example", "x@virt.example"])
        t.wait_maildir(self.md, 2)
        t.wait_log(r"to remote x@virt.example")
        self.assertNotIn("joe-x@virt.example", t.log())

    def test_term_waits_for_running_deliveries(self):
        t = self.t
        t.dot_qmail(self.joe, "-slow", "|sleep 1\n./Maildir/\n")
        t.start()
        qq(t, "Subject: slow\n\nx\n", "joe@test.example", ["joe-slow@test.example"])
        t.wait_log(r"starting delivery \d+: msg \d+ to local joe-slow@test.example")
        t.signal(signal.SIGTERM)
        self.assertEqual(t.send.wait(20), 0)
        log = t.log()
        self.assertIn("status: exiting\n", log)
        self.assertLess(log.index("success"), log.index("status: exiting"))
        self.assertEqual(t.maildir_count(self.md), 1)

    def test_remote_stays_queued_and_second_send_refuses(self):
        t = self.t
        # A relay where nothing listens: every attempt is a deferral.
        t.control("smtproutes", f"remote.example:127.0.0.1:{evq.free_port()}\n")
        t.start()
        qq(t, "Subject: far\n\nx\n", "joe@test.example", ["far@remote.example"])
        t.wait_log(r"starting delivery \d+: msg \d+ to remote far@remote.example")
        t.wait_log(r"delivery \d+: deferral: ")
        with open(os.path.join(t.base, "second.log"), "wb") as lf:
            p = subprocess.run([t.path("bin", "qmail-send")], stdin=lf, env=t.env(), timeout=10)
        self.assertEqual(p.returncode, 111)
        with open(os.path.join(t.base, "second.log"), "rb") as lf:
            self.assertEqual(lf.read(), b"alert: cannot start: qmail-send is already running\n")
        t.stop()
        rem = [os.path.join(r, f) for r, _, fs in os.walk(t.path("queue", "remote")) for f in fs]
        self.assertEqual(len(rem), 1)
        # The next-try time was written into the channel file's mtime.
        self.assertGreater(os.stat(rem[0]).st_mtime, time.time() + 100)
