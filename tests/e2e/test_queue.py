"""End-to-end tests of qmail-queue, qmail-clean, qmail-qread and qmail-qstat
(queue.md 1, 2, 4.9, 5.1; tools.md 5, 6) in a private tree. qmail-send is
never started, so what qmail-queue leaves behind stays for inspection."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import evq

RECEIVED = re.compile(rb"^Received: \(qmail (\d+) invoked by uid (\d+)\); "
                      rb"(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                      rb"(\d{4}) \d\d:\d\d:\d\d -0000\n")


def entries(q, d):
    """Names below queue/d; for split directories, below every subdirectory."""
    path = os.path.join(q, d)
    if d in ("mess", "info", "local", "remote"):
        out = []
        for s in os.listdir(path):
            out += os.listdir(os.path.join(path, s))
        return out
    return os.listdir(path)


class QueueTest(evq.TreeTest):
    def setUp(self):
        super().setUp()
        self.q = self.t.path("queue")
        self.tmp = tempfile.mkdtemp(prefix="evq-qq-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def qq(self, message, envelope, env=None, home=None):
        """Runs the tree's qmail-queue: message on fd 0, envelope on fd 1."""
        mpath = os.path.join(self.tmp, "msg")
        epath = os.path.join(self.tmp, "env")
        with open(mpath, "wb") as f:
            f.write(message)
        with open(epath, "wb") as f:
            f.write(envelope)
        e = self.t.env(**(env or {}))
        if home:
            e["QMAILHOME"] = home
        with open(mpath, "rb") as m, open(epath, "rb") as en:
            p = subprocess.run([os.path.join(self.t.bin, "qmail-queue")], stdin=m, stdout=en,
                               stderr=subprocess.PIPE, env=e, timeout=30)
        return p.returncode

    def debris(self, q=None):
        q = q or self.q
        return {d: entries(q, d) for d in ("mess", "intd", "todo", "pid") if entries(q, d)}

    def the_message(self):
        """(N, mess bytes, intd bytes) of the one queued message."""
        todo = entries(self.q, "todo")
        self.assertEqual(len(todo), 1, todo)
        n = int(todo[0])
        mess = os.path.join(self.q, "mess", str(n % 23), str(n))
        self.assertEqual(os.stat(mess).st_ino, n)  # named by its inode
        intd = os.path.join(self.q, "intd", str(n))
        self.assertEqual(os.stat(intd).st_ino, os.stat(os.path.join(self.q, "todo", str(n))).st_ino)
        with open(mess, "rb") as f:
            m = f.read()
        with open(intd, "rb") as f:
            i = f.read()
        return n, m, i

    # -- qmail-queue ---------------------------------------------------------
    def test_queues_message_with_received_line_and_envelope(self):
        body = b"Subject: hello\n\nline one\nline two\n"
        self.assertEqual(self.qq(body, b"Fsender@example.org\0Ta@test.example\0Tb@example.net\0\0"), 0)
        n, mess, intd = self.the_message()
        m = RECEIVED.match(mess)
        self.assertIsNotNone(m, mess[:200])
        pid, uid = m.group(1).decode(), m.group(2).decode()
        self.assertEqual(int(uid), os.getuid())
        self.assertEqual(mess[m.end():], body)
        self.assertEqual(intd, f"u{uid}\0p{pid}\0".encode() +
                         b"Fsender@example.org\0Ta@test.example\0Tb@example.net\0")
        self.assertEqual(entries(self.q, "pid"), [])
        self.assertEqual(os.stat(os.path.join(self.q, "todo", str(n))).st_mode & 0o777, 0o644)

    def test_bounce_and_double_bounce_envelopes(self):
        self.assertEqual(self.qq(b"x\n", b"F\0Tsender@example.org\0\0"), 0)
        self.assertEqual(self.qq(b"y\n", b"F#@[]\0Tpostmaster@test.example\0\0"), 0)
        self.assertEqual(len(entries(self.q, "todo")), 2)

    def test_exit_codes_and_no_debris(self):
        cases = [
            (b"Fs@x\0T" + b"a" * 1003 + b"\0\0", 11),   # address too long
            (b"Fs@x\0T" + b"a" * 5000, 11),
            (b"Ts@x\0\0", 91),                          # T before F
            (b"Fs@x\0Xr@y\0\0", 91),                    # unknown record
            (b"Fs@x\0Tr@y\0", 54),                      # EOF before the final NUL
            (b"", 54),                                  # no envelope at all
        ]
        for env, code in cases:
            with self.subTest(env=env[:20], code=code):
                self.assertEqual(self.qq(b"Subject: x\n\nx\n", env), code)
                self.assertEqual(self.debris(), {})
        # 1002 bytes is qmail's longest address (ADDR 1003 counts the NUL).
        self.assertEqual(self.qq(b"x\n", b"Fs@x\0T" + b"a" * 1002 + b"\0\0"), 0)

    def test_queueextra_adds_t_records_after_f(self):
        self.t.control("queueextra", "# copy of every message\nlog\n\narchive@example.org\n")
        self.assertEqual(self.qq(b"x\n", b"Fs@example.org\0Tr@example.net\0\0"), 0)
        _, _, intd = self.the_message()
        self.assertTrue(intd.endswith(b"\0Fs@example.org\0Tlog\0Tarchive@example.org\0Tr@example.net\0"),
                        intd)

    def test_queueextra_unreadable_is_55(self):
        os.mkdir(self.t.path("control", "queueextra"))  # a directory cannot be read as a file
        self.assertEqual(self.qq(b"x\n", b"Fs\0Tr\0\0"), 55)
        self.assertEqual(self.debris(), {})

    def test_qmailqueue_variable_is_for_callers_only(self):
        marker = os.path.join(self.tmp, "filter-ran")
        filt = os.path.join(self.tmp, "filter")
        with open(filt, "w") as f:
            f.write(f"#!/bin/sh\ntouch {marker}\nexit 31\n")
        os.chmod(filt, 0o755)
        self.assertEqual(self.qq(b"x\n", b"Fs\0Tr@x\0\0", env={"QMAILQUEUE": filt}), 0)
        self.assertFalse(os.path.exists(marker))
        self.the_message()

    def test_trigger_is_pulled(self):
        fd = os.open(self.t.path("queue", "lock", "trigger"), os.O_RDONLY | os.O_NONBLOCK)
        try:
            self.assertEqual(self.qq(b"x\n", b"Fs\0Tr@x\0\0"), 0)
            self.assertEqual(os.read(fd, 16), b"\0")
        finally:
            os.close(fd)
        # with no reader the open fails, which qmail-queue ignores
        self.assertEqual(self.qq(b"y\n", b"Fs\0Tr@x\0\0"), 0)

    def test_missing_home_is_61_and_missing_queue_is_62(self):
        self.assertEqual(self.qq(b"x\n", b"Fs\0\0", home=os.path.join(self.tmp, "nohome")), 61)
        os.makedirs(os.path.join(self.tmp, "h", "control"))
        self.assertEqual(self.qq(b"x\n", b"Fs\0\0", home=os.path.join(self.tmp, "h")), 62)

    def test_large_message_is_copied_verbatim(self):
        body = b"".join(b"line %d \x00\x01\xff\r\n" % i for i in range(100000))
        self.assertEqual(self.qq(body, b"Fs\0Tr@x\0\0"), 0)
        _, mess, _ = self.the_message()
        self.assertEqual(mess[RECEIVED.match(mess).end():], body)

    def test_full_disk_is_53_without_debris(self):
        small = os.environ.get("EVQ_SMALLFS", "")
        if not small:
            self.skipTest("EVQ_SMALLFS is empty: no small tmpfs to fill "
                          "(tests/run mounts one when started as root)")
        # scripts/setup copies every program (tens of MiB) into a tree, more than
        # a 3 MiB filesystem holds, so the tree stays here and only its queue
        # (pid/ and mess/ must share a filesystem anyway) moves to the small one.
        qbase = tempfile.mkdtemp(prefix="evq-q-", dir=small)
        self.addCleanup(shutil.rmtree, qbase, True)
        small_q = os.path.join(qbase, "queue")
        subprocess.run(["cp", "-a", self.q, small_q], check=True)
        shutil.rmtree(self.q)
        os.symlink(small_q, self.q)
        st = os.statvfs(small_q)
        free = st.f_bavail * st.f_frsize
        self.assertEqual(self.qq(b"x" * (free + (512 << 10)), b"Fs\0Tr@x\0\0"), 53)
        self.assertEqual(self.debris(small_q), {})
        st = os.statvfs(small_q)
        self.assertGreaterEqual(st.f_bavail * st.f_frsize, free - (64 << 10))  # space given back
        self.assertEqual(self.qq(b"small\n", b"Fs\0Tr@x\0\0"), 0)
        self.assertEqual(len(entries(small_q, "todo")), 1)

    # -- qmail-clean -----------------------------------------------------------
    def test_qmail_clean_protocol(self):
        self.assertEqual(self.qq(b"x\n", b"Fs\0Tr@x\0\0"), 0)
        n, _, _ = self.the_message()
        old = os.path.join(self.q, "pid", "999.1.1")
        young = os.path.join(self.q, "pid", "998.1.1")
        for p in (old, young):
            open(p, "w").close()
        os.utime(old, (1000, 1000))
        p = subprocess.Popen([os.path.join(self.t.bin, "qmail-clean")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=self.t.env(), cwd="/")
        try:
            def ask(req):
                p.stdin.write(req)
                p.stdin.flush()
                return p.stdout.read(1)
            self.assertEqual(ask(f"todo/{n}\0".encode()), b"+")
            self.assertEqual(entries(self.q, "todo"), [])
            self.assertEqual(entries(self.q, "intd"), [])
            self.assertEqual(len(entries(self.q, "mess")), 1)
            self.assertEqual(ask(f"foop/{n}\0".encode()), b"+")
            self.assertEqual(entries(self.q, "mess"), [])
            self.assertEqual(ask(f"foop/{n}\0".encode()), b"+")  # already gone: fine
            self.assertEqual(ask(b"bogus/1\0"), b"x")
            self.assertEqual(ask(b"todo/12x\0"), b"x")
            # the sweep at startup removed the ossified pid file only
            self.assertFalse(os.path.exists(old))
            self.assertTrue(os.path.exists(young))
            p.stdin.close()
            self.assertEqual(p.wait(timeout=10), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()

    # -- qmail-qread / qmail-qstat ----------------------------------------------
    def put(self, rel, data, mtime=None):
        path = os.path.join(self.q, rel)
        with open(path, "wb") as f:
            f.write(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))

    def test_qread_and_qstat_on_hand_made_queue(self):
        self.put("mess/7/30", b"m" * 321)
        self.put("info/7/30", b"Fsender@example.org\0", mtime=1605956160)
        self.put("local/7/30", b"Tjoe@test.example\0Dann@test.example\0")
        self.put("remote/7/30", b"Tfar@example.net\0")
        self.put("bounce/30", b"far@example.net:\nno\n\n")
        self.put("mess/1/24", b"hi")
        self.put("info/1/24", b"F\0", mtime=86400 + 3661)
        self.put("remote/1/24", b"Dgone@example.net\0Tbad\x01char@example.net\0")
        self.put("todo/99", b"")
        p = self.t.run("qmail-qread")
        self.assertEqual(p.stdout.decode("latin-1"),
                         "2 Jan 1970 01:01:01 GMT  #24  2  <> \n"
                         "  done\tremote\tgone@example.net\n"
                         "\tremote\tbad_char@example.net\n"
                         "21 Nov 2020 10:56:00 GMT  #30  321  <sender@example.org>  bouncing\n"
                         "\tlocal\tjoe@test.example\n"
                         "  done\tlocal\tann@test.example\n"
                         "\tremote\tfar@example.net\n")
        p = self.t.run("qmail-qstat")
        self.assertEqual(p.stdout, b"messages in queue: 2\n"
                                   b"messages in queue but not yet preprocessed: 1\n")

    def test_qstat_counts_fresh_injections(self):
        p = self.t.run("qmail-qstat")
        self.assertEqual(p.stdout, b"messages in queue: 0\nmessages in queue but not yet preprocessed: 0\n")
        for _ in range(3):
            self.assertEqual(self.qq(b"x\n", b"Fs\0Tr@x\0\0"), 0)
        p = self.t.run("qmail-qstat")
        self.assertEqual(p.stdout, b"messages in queue: 3\nmessages in queue but not yet preprocessed: 3\n")
        # qmail-qread lists only messages qmail-send has preprocessed (info/)
        self.assertEqual(self.t.run("qmail-qread").stdout, b"")


if __name__ == "__main__":
    unittest.main()
