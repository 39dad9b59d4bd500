"""End-to-end tests of the administration and user tools: splogger,
qmail-showctl, maildir2mbox and maildirwatch, run from a private tree."""
import mailbox
import os
import subprocess
import time

import evq


class ToolsTest(evq.TreeTest):
    def test_splogger_exits_zero_on_eof(self):
        p = self.t.run("splogger", "evqtest", "2",
                       input=b"status: local 0/10\nwarning: x\n\n" + b"y" * 2000 + b"\npartial")
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout, b"")

    def test_showctl_describes_tree(self):
        out = self.t.run("qmail-showctl").stdout.decode()
        self.assertIn(f"qmail home directory: {self.t.home}.", out)
        self.assertIn("subdirectory split: 23.", out)
        self.assertIn(f"me: My name is {self.t.fqdn}.", out)
        self.assertIn(f"Messages for {self.t.fqdn} are delivered locally.", out)
        self.assertIn(f"SMTP clients may send messages to recipients at {self.t.fqdn}.", out)
        self.assertIn("bouncehost: (Default.) Bounce host name is " + self.t.fqdn + ".", out)
        self.assertNotIn("open relay", out)

    def test_showctl_warns_without_rcpthosts(self):
        self.t.remove_control("rcpthosts")
        self.t.control("concurrencyremote", "500\n")
        self.t.control("mystery", "x\n")
        out = self.t.run("qmail-showctl").stdout.decode()
        self.assertIn("rcpthosts: (Default.) SMTP clients may send messages to any recipient.", out)
        self.assertIn("warning: control/rcpthosts is missing", out)
        self.assertIn("open relay", out)
        self.assertIn("concurrencyremote 500 is above conf-spawn 120", out)
        self.assertIn("mystery: I have no idea what this file does.", out)

    def _maildir(self):
        md = os.path.join(self.t.base, "Maildir")
        self.t.run("maildirmake", md)
        return md

    def _put(self, md, name, text, age=60):
        path = os.path.join(md, "new", name)
        with open(path, "w") as f:
            f.write(text)
        t = time.time() - age
        os.utime(path, (t, t))
        return path

    def test_maildir2mbox_moves_messages(self):
        md = self._maildir()
        self._put(md, "1.a.host", "Return-Path: <joe@example.com>\nSubject: one\n\nFrom the start\nbody1\n", 120)
        self._put(md, "2.b.host", "Return-Path: <>\nSubject: two\n\nbody2\n", 60)
        now = self._put(md, "3.c.host", "Return-Path: <late@example.com>\nSubject: three\n\nx\n", -5)
        mbox = os.path.join(self.t.base, "mbox")
        self.t.run("maildir2mbox", env={"MAILDIR": md, "MAIL": mbox, "MAILTMP": mbox + ".tmp"})
        box = mailbox.mbox(mbox, create=False)
        msgs = list(box)
        self.assertEqual([m["Subject"] for m in msgs], ["one", "two"])
        self.assertTrue(msgs[0].get_from().startswith("joe@example.com "))
        self.assertTrue(msgs[1].get_from().startswith("MAILER-DAEMON "))
        self.assertIn(">From the start", msgs[0].get_payload())
        self.assertEqual(sorted(os.listdir(os.path.join(md, "new"))), ["3.c.host"])
        self.assertTrue(os.path.exists(now))
        self.assertFalse(os.path.exists(mbox + ".tmp"))
        # A second run with nothing old enough leaves the mbox alone.
        before = open(mbox, "rb").read()
        self.t.run("maildir2mbox", env={"MAILDIR": md, "MAIL": mbox, "MAILTMP": mbox + ".tmp"})
        self.assertEqual(open(mbox, "rb").read(), before)

    def test_maildir2mbox_needs_environment(self):
        p = self.t.run("maildir2mbox", check=False, env={"MAILDIR": self.t.base})
        self.assertEqual(p.returncode, 111)
        self.assertIn(b"maildir2mbox: fatal: MAIL not set", p.stderr)

    def test_maildirwatch_shows_headers(self):
        md = self._maildir()
        self._put(md, "1.a.host", "From: Joe <joe@example.com>\nSubject: watch me\n\nbody\n")
        out = os.path.join(self.t.base, "watch.out")
        with open(out, "wb") as fh:
            p = subprocess.Popen([os.path.join(self.t.bin, "maildirwatch")], stdout=fh,
                                 env=self.t.env(MAILDIR=md, MAILDIRWATCH_INTERVAL="1"))
        try:
            evq.wait_for(lambda: b"Subject: watch me" in open(out, "rb").read(), 10,
                         what="maildirwatch output")
            self._put(md, "2.b.host", "From: Ann <ann@example.com>\nSubject: second\n\nbody\n")
            evq.wait_for(lambda: b"Subject: second" in open(out, "rb").read(), 10,
                         what="maildirwatch refresh")
            self.assertIn(b"From: Joe <joe@example.com>", open(out, "rb").read())
        finally:
            p.terminate()
            p.wait(10)

    def test_qbiff_is_harmless_without_tty(self):
        p = self.t.run("qbiff", input=b"From: a@b\nSubject: s\n\nbody\n",
                       env={"USER": "nobody-here", "RECIPIENT": "x@y"})
        self.assertEqual(p.returncode, 0)
