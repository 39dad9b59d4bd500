"""End-to-end tests of qmail-local, run directly (no qmail-send): Maildir and
mbox deliveries, .qmail programs and their environment, exit codes, forwarding
through a stand-in qmail-queue (the documented fd 0 / fd 1 interface), loop
detection, file selection rules and the safety checks of the home directory."""
import fcntl
import json
import mailbox
import os
import stat
import subprocess
import sys
import time
import unittest

import evq

MSG = b"From: a@x.org\nSubject: hello\n\nFrom the start\n>From quoted\nbody\n"
PY = sys.executable or "/usr/bin/python3"
# A program that writes its whole environment as JSON into $HOME/env.json.
DUMP_ENV = f"|{PY} -c 'import os,json; json.dump(dict(os.environ), open(os.environ[\"HOME\"]+\"/env.json\",\"w\"))'\n"


class LocalTest(evq.TreeTest):
    def setUp(self):
        super().setUp()
        self.home = os.path.join(self.t.base, "home", "joe")
        os.makedirs(self.home)
        os.chmod(self.home, 0o755)
        self.t.run("maildirmake", os.path.join(self.home, "Maildir"))
        # Stand-in qmail-queue: records the message (fd 0) and envelope (fd 1).
        self.qq = os.path.join(self.t.base, "fake-qq")
        self.qq_exit = 0
        self.write_qq(0)

    def write_qq(self, code):
        with open(self.qq, "w") as f:
            f.write(f"#!/bin/sh\ncat > {self.t.base}/fwd.msg\ncat <&1 > {self.t.base}/fwd.env\nexit {code}\n")
        os.chmod(self.qq, 0o755)

    def forwarded(self):
        with open(os.path.join(self.t.base, "fwd.env"), "rb") as f:
            env = f.read()
        with open(os.path.join(self.t.base, "fwd.msg"), "rb") as f:
            msg = f.read()
        return [r for r in env.split(b"\0") if r], msg

    def dq(self, ext, text, mode=0o644):
        return self.t.dot_qmail(self.home, ext, text, mode)

    def local(self, local="joe", dash="", ext="", sender="s@x.org", msg=MSG, domain="test.example",
              dd="./Maildir/", opts=(), popen=False, peak_rss=None):
        mpath = os.path.join(self.t.base, "msg")
        if msg is not None:  # None: the caller has written the file
            with open(mpath, "wb") as f:
                f.write(msg)
        args = [os.path.join(self.t.bin, "qmail-local"), *opts, "--", "joe", self.home, local, dash, ext,
                domain, sender, dd]
        if peak_rss:
            args = evq.peak_rss_argv(args, peak_rss)
        env = self.t.env(QMAILQUEUE=self.qq)
        fin = open(mpath, "rb")
        self.addCleanup(fin.close)
        if popen:
            return subprocess.Popen(args, stdin=fin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        p = subprocess.run(args, stdin=fin, capture_output=True, env=env, timeout=30 * evq.TIME_SCALE)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def maildir_msgs(self, d="Maildir"):
        return [m.as_bytes() for m in mailbox.Maildir(os.path.join(self.home, d), factory=None, create=False)]

    def env_json(self):
        with open(os.path.join(self.home, "env.json")) as f:
            return json.load(f)

    # -- Maildir ---------------------------------------------------------------
    def test_maildir_default_delivery(self):
        rc, out, err = self.local()
        self.assertEqual((rc, out, err), (0, "did 1+0+0\n", ""))
        msgs = self.maildir_msgs()
        self.assertEqual(len(msgs), 1)
        self.assertTrue(msgs[0].startswith(b"Return-Path: <s@x.org>\nDelivered-To: joe@test.example\n" + MSG))
        name = os.listdir(os.path.join(self.home, "Maildir", "new"))[0]
        self.assertRegex(name, r"^\d+\.M\d+P\d+Q\d+\.[^:/]+,S=%d$" % (len(msgs[0])))
        self.assertEqual(os.listdir(os.path.join(self.home, "Maildir", "tmp")), [])

    def test_maildir_missing_or_unwritable_is_temporary(self):
        self.dq("", "./Nope/\n")
        rc, out, err = self.local()
        self.assertEqual((rc, err), (111, "Unable to chdir to maildir. (#4.2.1)\n"))
        os.chmod(os.path.join(self.home, "Maildir", "tmp"), 0o500)
        self.dq("", "./Maildir/\n")
        rc, out, err = self.local()
        self.assertEqual((rc, err), (111, "Temporary error on maildir delivery. (#4.3.0)\n"))

    # -- mbox ------------------------------------------------------------------
    def test_mbox_quoting_and_format(self):
        self.dq("", "./Mailbox\n")
        self.assertEqual(self.local(sender="")[0], 0)
        self.assertEqual(self.local(msg=b"Subject: two\n\nno newline")[0], 0)
        with open(os.path.join(self.home, "Mailbox"), "rb") as f:
            raw = f.read()
        self.assertRegex(raw.split(b"\n")[0].decode(), r"^From MAILER-DAEMON \w{3} \w{3} \d\d \d\d:\d\d:\d\d \d{4}$")
        self.assertIn(b"Return-Path: <>\nDelivered-To: joe@test.example\nFrom: a@x.org\n", raw)
        self.assertIn(b"\n>From the start\n>>From quoted\nbody\n\nFrom s@x.org ", raw)
        self.assertTrue(raw.endswith(b"no newline\n\n"))
        box = list(mailbox.mbox(os.path.join(self.home, "Mailbox"), create=False))
        self.assertEqual(len(box), 2)
        self.assertEqual(box[0]["Subject"], "hello")
        self.assertEqual(box[1]["Return-Path"], "<s@x.org>")

    def test_mbox_waits_for_lock(self):
        # MUAs lock with flock or with fcntl (lockf): both are waited for.
        self.dq("", "./Mailbox\n")
        path = os.path.join(self.home, "Mailbox")
        for n, (lock, unlock) in enumerate([(lambda f: fcntl.flock(f, fcntl.LOCK_EX),
                                             lambda f: fcntl.flock(f, fcntl.LOCK_UN)),
                                            (lambda f: fcntl.lockf(f, fcntl.LOCK_EX),
                                             lambda f: fcntl.lockf(f, fcntl.LOCK_UN))], 1):
            with self.subTest(lock=["flock", "fcntl"][n - 1]):
                holder = open(path, "ab")
                lock(holder)
                size = os.path.getsize(path)
                p = self.local(popen=True)
                try:
                    deadline = time.monotonic() + 0.5
                    while time.monotonic() < deadline:
                        self.assertIsNone(p.poll(), "delivered while the mbox was locked")
                        time.sleep(0.05)
                    self.assertEqual(os.path.getsize(path), size)
                finally:
                    unlock(holder)
                    holder.close()
                out, err = p.communicate(timeout=20)
                self.assertEqual((p.returncode, out), (0, b"did 1+0+0\n"))
                self.assertEqual(len(mailbox.mbox(path, create=False)), n)

    def test_mbox_streams_a_line_without_end(self):
        # 64 MB in one line: qmail-local copies it through, not into memory.
        self.dq("", "./Mailbox\n")
        size = 64 << 20
        # Written in pieces: the child's peak RSS counts what this process
        # held when it forked.
        with open(os.path.join(self.t.base, "msg"), "wb") as f:
            f.write(b"Subject: long\n\n")
            for _ in range(size >> 20):
                f.write(b"y" * (1 << 20))
        report = os.path.join(self.t.base, "peak")
        rc, out, _ = self.local(msg=None, peak_rss=report)
        self.assertEqual((rc, out), (0, "did 1+0+0\n"))
        self.assertEqual(os.path.getsize(os.path.join(self.home, "Mailbox")) > size, True)
        with open(report) as f:
            self.assertLess(int(f.read()), (size >> 10) // 2, "peak KB of qmail-local")

    # -- programs ----------------------------------------------------------------
    def test_program_environment(self):
        self.dq("-list-default", DUMP_ENV)
        self.dq("-list-x-owner", "")
        rc, out, err = self.local(local="joe-list-X", dash="-", ext="list-X", domain="compat.example",
                                  sender="j d@y.org")
        self.assertEqual((rc, out, err), (0, "did 0+0+1\n", ""))
        e = self.env_json()
        want = {
            "USER": "joe", "HOME": self.home, "LOCAL": "joe-list-X", "HOST": "compat.example",
            "RECIPIENT": "joe-list-X@compat.example", "SENDER": "j d@y.org",
            "NEWSENDER": "joe-list-X-owner@compat.example",
            "EXT": "list-X", "EXT2": "X", "EXT3": "", "EXT4": "",
            "HOST2": "compat", "HOST3": "compat", "HOST4": "compat", "DEFAULT": "X",
            "DTLINE": "Delivered-To: joe-list-X@compat.example\n",
            "RPLINE": 'Return-Path: <"j d"@y.org>\n',
        }
        for k, v in want.items():
            self.assertEqual(e.get(k), v, k)
        self.assertRegex(e["UFLINE"], r"^From j-d@y\.org \w{3} \w{3} \d\d \d\d:\d\d:\d\d \d{4}\n$")
        self.assertEqual(e["QMAILQUEUE"], self.qq)  # the rest is inherited

    def test_program_stdin_and_ext_split(self):
        self.dq("-a-default", "|cat > got\n")
        self.assertEqual(self.local(local="joe-a-b-c-d", dash="-", ext="a-b-c-d", domain="w.x.y.z")[0], 0)
        with open(os.path.join(self.home, "got"), "rb") as f:
            self.assertEqual(f.read(), MSG)  # no Return-Path / Delivered-To for programs
        self.dq("-a-default", DUMP_ENV)
        self.local(local="joe-a-b-c-d", dash="-", ext="a-b-c-d", domain="w.x.y.z")
        e = self.env_json()
        self.assertEqual((e["EXT2"], e["EXT3"], e["EXT4"], e["DEFAULT"]), ("b-c-d", "c-d", "d", "b-c-d"))
        self.assertEqual((e["HOST2"], e["HOST3"], e["HOST4"]), ("w.x.y", "w.x", "w"))

    def test_exit_codes(self):
        cases = [
            ("|exit 99\n./Maildir/\n", 0, "did 0+0+1\n", 0),
            ("|exit 0\n./Maildir/\n", 0, "did 1+0+1\n", 1),
            ("|echo bad news; exit 100\n./Maildir/\n", 100, "bad news\n", 0),
            ("|exit 65\n", 100, "", 0),
            ("|exit 112\n", 100, "", 0),
            ("|exit 111\n./Maildir/\n", 111, "", 0),
            ("|exit 1\n", 111, "", 0),
            ("./Maildir/\n|exit 111\n", 111, "", 1),  # completed deliveries stay
            ("|kill -9 $$\n", 111, "", 0),
        ]
        for text, code, out, count in cases:
            with self.subTest(text=text):
                for n in os.listdir(os.path.join(self.home, "Maildir", "new")):
                    os.unlink(os.path.join(self.home, "Maildir", "new", n))
                self.dq("", text)
                rc, o, e = self.local()
                self.assertEqual(rc, code, e)
                self.assertEqual(o, out)
                self.assertEqual(len(self.maildir_msgs()), count)
                if text.startswith("|kill"):
                    self.assertEqual(e, "Aack, child crashed. (#4.3.0)\n")

    # -- forwarding --------------------------------------------------------------
    def test_forward_one_injection_with_owner(self):
        self.dq("-sos", "# list\n&a@b.org\nc@d.org\n+ignored\n")
        self.dq("-sos-owner", "")
        rc, out, err = self.local(local="joe-sos", dash="-", ext="sos")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^did 0\+2\+0\nqp \d+\n$")
        env, msg = self.forwarded()
        self.assertEqual(env, [b"Fjoe-sos-owner@test.example", b"Ta@b.org", b"Tc@d.org"])
        self.assertEqual(msg, b"Delivered-To: joe-sos@test.example\n" + MSG)

    def test_forward_verp_owner_and_plain_sender(self):
        self.dq("-sos", "a@b.org\n")
        rc, out, err = self.local(local="joe-sos", dash="-", ext="sos")
        self.assertEqual(self.forwarded()[0][0], b"Fs@x.org")
        self.dq("-sos-owner-default", "")  # alone it does nothing
        self.local(local="joe-sos", dash="-", ext="sos")
        self.assertEqual(self.forwarded()[0][0], b"Fs@x.org")
        self.dq("-sos-owner", "")
        self.local(local="joe-sos", dash="-", ext="sos")
        self.assertEqual(self.forwarded()[0][0], b"Fjoe-sos-owner-@test.example-@[]")
        self.local(local="joe-sos", dash="-", ext="sos", sender="")
        self.assertEqual(self.forwarded()[0][0], b"F")

    def test_forward_after_99_and_failures(self):
        self.dq("", "&a@b.org\n|exit 99\n&c@d.org\n")
        rc, out, err = self.local()
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^did 0\+1\+1\nqp \d+\n$")
        self.assertEqual(self.forwarded()[0], [b"Fs@x.org", b"Ta@b.org"])
        os.unlink(os.path.join(self.t.base, "fwd.env"))
        self.dq("", "&a@b.org\n|exit 111\n")
        self.assertEqual(self.local()[0], 111)
        self.assertFalse(os.path.exists(os.path.join(self.t.base, "fwd.env")))
        self.dq("", "&a@b.org\n")
        self.write_qq(31)
        self.assertEqual(self.local()[::2], (100, "Unable to forward message: mail server permanently rejected message (#5.3.0).\n"))
        self.write_qq(53)
        self.assertEqual(self.local()[::2], (111, "Unable to forward message: qq write error or disk full (#4.3.0).\n"))

    def test_forward_only_execute_bit(self):
        self.dq("-fw", "&a@b.org\n", mode=0o744)
        rc, out, err = self.local(local="joe-fw", dash="-", ext="fw")
        self.assertEqual(rc, 0, err)
        self.dq("-fw", "&a@b.org\n./Maildir/\n", mode=0o744)
        self.assertEqual(self.local(local="joe-fw", dash="-", ext="fw")[::2],
                         (111, "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)\n"))
        self.dq("-fw", "|true\n", mode=0o744)
        self.assertEqual(self.local(local="joe-fw", dash="-", ext="fw")[::2],
                         (111, "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)\n"))
        self.dq("-fw", "+list\n./Maildir/\n")
        self.assertEqual(self.local(local="joe-fw", dash="-", ext="fw")[0], 111)
        self.assertEqual(len(self.maildir_msgs()), 0)

    # -- loops, files, safety ----------------------------------------------------
    def test_loop_detection(self):
        msg = b"Received: x\nDelivered-To: joe@test.example\nSubject: s\n\nbody\n"
        self.assertEqual(self.local(msg=msg)[::2],
                         (100, "This message is looping: it already has my Delivered-To line. (#5.4.6)\n"))
        for ok in (b"Delivered-To: JOE@test.example\n\nx\n", b"Subject: s\n\nDelivered-To: joe@test.example\n"):
            self.assertEqual(self.local(msg=ok)[0], 0)
        self.assertEqual(len(self.maildir_msgs()), 2)

    def test_default_files_and_case_folding(self):
        self.dq("-p:d:q:bach", "./Bach\n")
        self.assertEqual(self.local(local="joe-P.D.Q.Bach", dash="-", ext="P.D.Q.Bach")[0], 0)
        self.assertTrue(os.path.exists(os.path.join(self.home, "Bach")))
        self.dq("-default", "./Default\n")
        self.assertEqual(self.local(local="joe-zz", dash="-", ext="zz")[0], 0)
        self.assertTrue(os.path.exists(os.path.join(self.home, "Default")))
        os.unlink(os.path.join(self.home, ".qmail-default"))
        self.assertEqual(self.local(local="joe-zz", dash="-", ext="zz")[::2],
                         (100, "Sorry, no mailbox here by that name. (#5.1.1)\n"))
        # Empty dash: no file at all means defaultdelivery, which may have several lines.
        rc, out, err = self.local(dd="|echo one\n./Maildir/")
        self.assertEqual((rc, out), (0, "one\ndid 1+0+1\n"))
        # An empty file means defaultdelivery too.
        self.dq("", "")
        self.assertEqual(self.local()[1], "did 1+0+0\n")

    def test_home_and_file_safety(self):
        self.dq("", "./Maildir/\n")
        os.chmod(self.home, 0o757)
        self.assertEqual(self.local()[::2], (111, "Uh-oh: home directory is writable. (#4.7.0)\n"))
        os.chmod(self.home, 0o755 | stat.S_ISVTX)
        self.assertEqual(self.local()[::2],
                         (111, "Home directory is sticky: user is editing his .qmail file. (#4.2.1)\n"))
        os.chmod(self.home, 0o755)
        os.chmod(os.path.join(self.home, ".qmail"), 0o646)
        self.assertEqual(self.local()[::2], (111, "Uh-oh: .qmail file is writable. (#4.7.0)\n"))
        self.dq("", "\n./Maildir/\n")
        self.assertEqual(self.local()[::2], (111, "Uh-oh: first line of .qmail file is blank. (#4.2.1)\n"))
        self.assertEqual(len(self.maildir_msgs()), 0)

    def test_dry_run(self):
        self.dq("-x", "# c\n./Maildir/\n./mbox\n|prog arg\n&a@b\nc@d\n")
        rc, out, err = self.local(local="joe-x", dash="-", ext="x", opts=("-n",))
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, "maildir ./Maildir/\nmbox ./mbox\nprogram prog arg\nforward a@b\nforward c@d\ndid 2+2+1\n")
        self.assertEqual(len(self.maildir_msgs()), 0)

    def test_usage(self):
        p = subprocess.run([os.path.join(self.t.bin, "qmail-local"), "a", "b"], capture_output=True)
        self.assertEqual(p.returncode, 100)
        # Without "--", options end at the first non-option: a sender may start with "-".
        p = subprocess.run([os.path.join(self.t.bin, "qmail-local"), "-n", "joe", self.home, "joe", "", "",
                            "h", "-s@x", "./Maildir/"], capture_output=True, stdin=subprocess.DEVNULL)
        self.assertEqual((p.returncode, p.stdout), (0, b"maildir ./Maildir/\ndid 1+0+0\n"))


if __name__ == "__main__":
    unittest.main()
