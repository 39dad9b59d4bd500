"""End-to-end tests of qmail-inject, the sendmail wrapper (with its mailq and
newaliases personalities), datemail, predate, mailsubj and qreceipt, run as
real programs in a private tree.  qmail-send is not needed: QMAILQUEUE points
to a stand-in that records the message (fd 0) and the envelope (fd 1) it is
given, as qmail-queue's documented interface allows; one test goes through the
real bin/qmail-queue and looks at the queue files."""
import os
import re
import unittest

import evq

DATE_RX = r"\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}"


class InjectTest(evq.TreeTest):
    def setUp(self):
        super().setUp()
        self.qq = os.path.join(self.t.base, "fake-qq")
        with open(self.qq, "w") as f:
            f.write("#!/bin/sh\n"
                    f"cat > {self.t.base}/qq.msg\n"
                    f"cat <&1 > {self.t.base}/qq.env\n"
                    "exit ${QQ_EXIT:-0}\n")
        os.chmod(self.qq, 0o755)

    # -- helpers ----------------------------------------------------------------
    def env(self, **extra):
        e = {"QMAILQUEUE": self.qq, "USER": "joe"}
        e.update(extra)
        return e

    def run_prog(self, prog, *args, input=b"", env=None, check=True):
        return self.t.run(prog, *args, input=input, env=self.env(**(env or {})), check=check)

    def inject(self, msg, *args, env=None, check=True):
        if isinstance(msg, str):
            msg = msg.encode()
        return self.run_prog("qmail-inject", *args, input=msg, env=env, check=check)

    def queued(self):
        """(sender, [recipients], message) the stand-in qmail-queue received."""
        with open(os.path.join(self.t.base, "qq.env"), "rb") as f:
            env = f.read().decode()
        with open(os.path.join(self.t.base, "qq.msg"), "rb") as f:
            msg = f.read().decode()
        recs = [r for r in env.split("\0") if r]
        self.assertTrue(env.endswith("\0\0") or env == "F\0\0", repr(env))
        self.assertTrue(recs and recs[0].startswith("F"), repr(env))
        return recs[0][1:], [r[1:] for r in recs[1:]], msg

    def was_queued(self):
        return os.path.exists(os.path.join(self.t.base, "qq.msg"))

    def link(self, name, target):
        """A program name that is a symlink to one of ours (mailq -> sendmail)."""
        d = os.path.join(self.t.base, "links")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, name)
        os.symlink(os.path.join(self.t.bin, target), p)
        return p

    def header(self, msg):
        return msg.split("\n\n", 1)[0] + "\n"

    # -- masquerading (FAQ 1) ----------------------------------------------------
    def test_host_masquerading_faq_1_1(self):
        self.t.control("defaulthost", "af.mil\n")
        self.inject("To: fred\nSubject: x\n\nhi\n")
        sender, rcpts, msg = self.queued()
        self.assertEqual((sender, rcpts), ("joe@af.mil", ["fred@af.mil"]))
        self.assertIn("\nFrom: joe@af.mil\n", "\n" + msg)
        self.assertIn("\nTo: fred@af.mil\n", msg)

    def test_user_masquerading_faq_1_2(self):
        env = {"MAILHOST": "af.mil", "MAILUSER": "boss", "NAME": "The Boss"}
        self.inject("To: fred@x.org\n\nhi\n", env=env)
        sender, _, msg = self.queued()
        self.assertEqual(sender, "boss@af.mil")
        self.assertIn('From: "The Boss" <boss@af.mil>\n', msg)
        # A client-supplied From: is kept, unless QMAILINJECT=f.
        self.inject("From: joe@client.example\nTo: fred@x.org\n\nhi\n", env=env)
        self.assertIn("From: joe@client.example\n", self.queued()[2])
        self.inject("From: joe@client.example\nTo: fred@x.org\n\nhi\n", env=dict(env, QMAILINJECT="f"))
        msg = self.queued()[2]
        self.assertNotIn("client.example", msg)
        self.assertIn('From: "The Boss" <boss@af.mil>\n', msg)

    def test_plusdomain_and_defaultdomain_completion(self):
        self.t.control("plusdomain", "berkeley.edu\n")
        self.t.control("defaultdomain", "cs.example\n")
        self.inject("To: eric@mammoth.cs+, bob@pobox, sam@mammoth+\n\nx\n")
        _, rcpts, msg = self.queued()
        self.assertEqual(rcpts, ["sam@mammoth.berkeley.edu", "bob@pobox.cs.example",
                                 "eric@mammoth.cs.berkeley.edu"])
        self.assertIn("To: eric@mammoth.cs.berkeley.edu, bob@pobox.cs.example,\n"
                      "  sam@mammoth.berkeley.edu\n", msg)
        # The envelope sender and From: get the same completion (defaulthost = me).
        self.assertEqual(self.queued()[0], "joe@test.example")

    # -- sendmail ----------------------------------------------------------------
    def test_sendmail_t_as_mail_clients_use_it(self):
        msg = "From: joe@x.org\nTo: a@x.org, b@y.org\nCc: c@z.org\nSubject: s\n\nbody\n.\nmore\n"
        self.run_prog("sendmail", "-oem", "-oi", "-t", input=msg.encode())  # FAQ 6.2
        sender, rcpts, out = self.queued()
        self.assertEqual(rcpts, ["b@y.org", "a@x.org", "c@z.org"])
        self.assertTrue(out.endswith("\n\nbody\n.\nmore\n"))
        self.run_prog("sendmail", "-t", "-i", "-f", "bounce@x.org", "extra@w.org", input=msg.encode())
        sender, rcpts, _ = self.queued()
        self.assertEqual(sender, "bounce@x.org")
        self.assertEqual(rcpts, ["extra@w.org", "b@y.org", "a@x.org", "c@z.org"])
        # Without -t only the arguments count (cron's `sendmail user`).
        self.run_prog("sendmail", "-odi", "-FCron Daemon", "root", input=b"Subject: cron\n\nout\n")
        sender, rcpts, out = self.queued()
        self.assertEqual(rcpts, ["root@test.example"])
        self.assertIn('From: "Cron Daemon" <joe@test.example>\n', out)

    def test_sendmail_unknown_option_and_newaliases(self):
        p = self.run_prog("sendmail", "-q", check=False)
        self.assertEqual(p.returncode, 100)
        self.assertIn(b"usage", p.stderr)
        p = self.t.run(self.link("newaliases", "sendmail"), check=False, env=self.env())
        self.assertEqual(p.returncode, 100)
        self.assertIn(b"aliases", p.stderr)
        self.assertFalse(self.was_queued())

    def test_mailq_and_bp_run_qmail_qread(self):
        qread = self.t.path("bin", "qmail-qread")
        if not os.path.exists(qread):
            with open(qread, "w") as f:
                f.write("#!/bin/sh\necho stand-in qread\n")
            os.chmod(qread, 0o755)
        expect = self.t.run("qmail-qread", check=False)
        for p in (self.run_prog("sendmail", "-bp", check=False),
                  self.t.run(self.link("mailq", "sendmail"), check=False, env=self.env())):
            self.assertEqual((p.returncode, p.stdout), (expect.returncode, expect.stdout))

    def test_sendmail_bs_runs_qmail_smtpd(self):
        p = self.run_prog("sendmail", "-bs", input=b"QUIT\r\n", check=False)
        if os.path.exists(self.t.path("bin", "qmail-smtpd")):
            self.assertTrue(p.stdout.startswith(b"220 "), p.stdout)
        else:
            self.assertEqual(p.returncode, 111)
            self.assertIn(b"unable to run qmail-smtpd", p.stderr)

    # -- recipients and envelope ---------------------------------------------------
    def test_recipient_options(self):
        msg = "To: a@x.org, b@x.org\nBcc: hidden@x.org\n\nx\n"
        cases = [((), ["b@x.org", "a@x.org", "hidden@x.org"]),
                 (("arg@x.org",), ["arg@x.org"]),
                 (("-a", "arg@x.org"), ["arg@x.org"]),
                 (("-A", "arg@x.org"), ["arg@x.org"]),
                 (("-h", "arg@x.org"), ["b@x.org", "a@x.org", "hidden@x.org"]),
                 (("-H", "arg@x.org"), ["arg@x.org", "b@x.org", "a@x.org", "hidden@x.org"])]
        for args, want in cases:
            self.inject(msg, *args)
            self.assertEqual(self.queued()[1], want, args)
            self.assertNotIn("hidden", self.queued()[2])

    def test_sender_from_f_and_return_path(self):
        msg = "Return-Path: <rp@x.org>\nTo: a@x.org\n\nx\n"
        self.inject(msg)
        self.assertEqual(self.queued()[0], "rp@x.org")
        self.assertNotIn("Return-Path", self.queued()[2])
        self.inject(msg, "-f", "list-owner")
        self.assertEqual(self.queued()[0], "list-owner@test.example")
        self.inject(msg, env={"QMAILINJECT": "s"})
        self.assertEqual(self.queued()[0], "joe@test.example")
        self.inject(msg, env={"QMAILINJECT": "s", "QMAILSUSER": "bounces", "QMAILSHOST": "lists.x.org"})
        self.assertEqual(self.queued()[0], "bounces@lists.x.org")

    def test_bcc_removed_date_and_message_id_added(self):
        self.t.control("idhost", "id.test.example\n")
        self.inject("To: a@x.org\nBcc: b@x.org\nContent-Length: 3\nSubject: s\n\nbody\n")
        _, rcpts, msg = self.queued()
        self.assertEqual(rcpts, ["a@x.org", "b@x.org"])
        head = self.header(msg)
        self.assertNotIn("Bcc", head)
        self.assertNotIn("Content-Length", head)
        self.assertRegex(head, r"(?m)^Date: " + DATE_RX + r" -0000$")
        self.assertRegex(head, r"(?m)^Message-ID: <\d{14}\.\d+\.qmail@id\.test\.example>$")
        self.assertNotIn("Cc: recipient list not shown", head)
        # No To: and no Cc: -> a Cc: that shows nothing.
        self.inject("Subject: s\n\nx\n", "a@x.org")
        self.assertIn("Cc: recipient list not shown: ;\n", self.queued()[2])
        # Existing Date: and Message-ID: are kept, QMAILINJECT=i replaces the latter.
        self.inject("Date: then\nMessage-ID: <old@x>\nTo: a@x.org\n\nx\n")
        head = self.header(self.queued()[2])
        self.assertEqual(head.count("Date:"), 1)
        self.assertIn("Message-ID: <old@x>", head)
        self.inject("Message-ID: <old@x>\nTo: a@x.org\n\nx\n", env={"QMAILINJECT": "i"})
        self.assertNotIn("<old@x>", self.queued()[2])

    def test_resent_message(self):
        self.inject("Resent-To: r1@x.org, r2@x.org\nFrom: orig@y.org\nTo: t@y.org\nDate: d\n"
                    "Message-ID: <m@y>\n\nbody\n")
        _, rcpts, msg = self.queued()
        self.assertEqual(rcpts, ["r2@x.org", "r1@x.org"])
        head = self.header(msg)
        self.assertRegex(head, r"(?m)^Resent-Date: " + DATE_RX + " -0000$")
        self.assertRegex(head, r"(?m)^Resent-Message-ID: <")
        self.assertIn("Resent-From: joe@test.example\n", head)
        self.assertEqual(head.count("Date:"), 2)  # the plain one is not added again

    def test_no_recipients_still_queued(self):
        p = self.inject("Subject: nobody\n\nx\n")
        self.assertEqual(p.returncode, 0)
        sender, rcpts, _ = self.queued()
        self.assertEqual((sender, rcpts), ("joe@test.example", []))

    def test_broken_headers(self):
        p = self.inject("From: joe (unclosed\nTo: a@x.org\n\nx\n", check=False)
        self.assertEqual(p.returncode, 100)
        self.assertIn(b"unable to parse this line", p.stderr)
        self.assertFalse(self.was_queued())
        # A first line that is no header: everything is body.
        self.inject("Bad Header: x\nTo: a@x.org\n", "r@x.org")
        _, rcpts, msg = self.queued()
        self.assertEqual(rcpts, ["r@x.org"])
        self.assertTrue(msg.endswith("Cc: recipient list not shown: ;\n\nBad Header: x\nTo: a@x.org\n"))
        # An mbox separator line becomes a field.
        self.inject("From joe Sat Nov 21 10:56:00 2020\nTo: a@x.org\n\nx\n")
        self.assertIn("MBOX-Line: From joe Sat Nov 21 10:56:00 2020\n", self.queued()[2])
        p = self.inject("x\n", "-F", "Name", check=False)  # only sendmail has -F
        self.assertEqual(p.returncode, 100)

    def test_qmail_queue_failures(self):
        p = self.inject("To: a@x.org\n\nx\n", env={"QQ_EXIT": "53"}, check=False)
        self.assertEqual(p.returncode, 111)
        self.assertIn(b"qmail-inject: fatal: qq write error or disk full", p.stderr)
        p = self.inject("To: a@x.org\n\nx\n", env={"QQ_EXIT": "31"}, check=False)
        self.assertEqual(p.returncode, 100)
        self.assertIn(b"permanently rejected", p.stderr)
        p = self.inject("To: a@x.org\n\nx\n", env={"QMAILQUEUE": "/nonexistent/qq"}, check=False)
        self.assertEqual(p.returncode, 111)

    def test_print_with_n(self):
        p = self.inject("To: a@x.org\n\nx\n", "-n")
        out = p.stdout.decode()
        self.assertTrue(out.startswith("Return-Path: <joe@test.example>\nDate: "), out)
        self.assertFalse(self.was_queued())

    def test_through_real_qmail_queue(self):
        if not os.path.exists(self.t.path("bin", "qmail-queue")):
            self.skipTest("bin/qmail-queue not built yet")
        p = self.t.run("qmail-inject", "-f", "s@x.org", "r@y.org", input=b"Subject: real\n\nreal body\n",
                       env={"USER": "joe"})
        self.assertEqual(p.returncode, 0)
        todo = os.listdir(self.t.path("queue", "todo"))
        self.assertEqual(len(todo), 1)
        n = int(todo[0])
        with open(self.t.path("queue", "mess", str(n % 23), str(n)), "rb") as f:
            mess = f.read().decode()
        self.assertTrue(mess.startswith("Received: "), mess)
        self.assertIn("Subject: real\n\nreal body\n", mess)
        with open(self.t.path("queue", "todo", todo[0]), "rb") as f:
            env = f.read()
        self.assertIn(b"Fs@x.org\0Tr@y.org\0", env)

    # -- datemail, predate, mailsubj, qreceipt ---------------------------------------
    def test_predate_and_datemail_local_zone(self):
        tz = {"TZ": "XYZ-5:30"}
        p = self.run_prog("predate", "cat", input=b"To: a@x.org\n\nx\n", env=tz)
        out = p.stdout.decode()
        self.assertRegex(out, r"^Date: " + DATE_RX + r" \+0530\nTo: a@x.org\n\nx\n$")
        p = self.run_prog("predate", "sh", "-c", "cat >/dev/null; exit 7", input=b"x\n", check=False)
        self.assertEqual(p.returncode, 7)
        self.run_prog("datemail", "-t", input=b"To: a@x.org\nSubject: d\n\nx\n", env=tz)
        _, rcpts, msg = self.queued()
        self.assertEqual(rcpts, ["a@x.org"])
        head = self.header(msg)
        self.assertRegex(head, r"(?m)^Date: " + DATE_RX + r" \+0530$")
        self.assertEqual(head.count("Date:"), 1)

    def test_mailsubj(self):
        self.run_prog("mailsubj", "hello there", "a@x.org", "b@y.org", input=b"the text\n")
        _, rcpts, msg = self.queued()
        self.assertEqual(rcpts, ["b@y.org", "a@x.org"])
        self.assertIn("Subject: hello there\n", msg)
        self.assertIn("To: a@x.org, b@y.org\n", msg)
        self.assertTrue(msg.endswith("\n\nthe text\n"))

    def test_qreceipt(self):
        msg = b"Message-ID: <1@x>\nNotice-Requested-Upon-Delivery-To: joe@test.example\n\nhi\n"
        self.run_prog("qreceipt", "joe@test.example", input=msg, env={"SENDER": "asker@x.org"})
        sender, rcpts, out = self.queued()
        self.assertEqual((sender, rcpts), ("", ["asker@x.org"]))
        self.assertIn("Subject: success notice\n", out)
        self.assertIn("following address: joe@test.example. Thanks for asking.\nYour Message-ID: <1@x>\n", out)
        os.unlink(os.path.join(self.t.base, "qq.msg"))
        self.run_prog("qreceipt", "other@test.example", input=msg, env={"SENDER": "asker@x.org"})
        self.assertFalse(self.was_queued())


if __name__ == "__main__":
    unittest.main()
