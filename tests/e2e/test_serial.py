"""serialmail on loopback (spec/serialmail.md): maildirsmtp and maildirqmtp
pushing a customer maildir to a real SMTP server (aiosmtpd) and to a small
QMTP server, Maildir bookkeeping, setlock semantics and the `setlock -nx`
guard against two overlapping deliveries."""
import fcntl
import os
import socket
import subprocess
import threading
import time
import unittest

import evq
from smtpsink import Recorder, read_netstring

try:
    from aiosmtpd.controller import Controller
    HAVE_AIOSMTPD = True
except ImportError:  # Debian's python3-aiosmtpd; run with /usr/bin/python3
    HAVE_AIOSMTPD = False

PREFIX = "autoturn-127.0.0.1-"


class QmtpServer:
    """A minimal QMTP server (FAQ 5.2): one netstring triple per message,
    answered with `reply(sender, rcpts, body)` (default K)."""

    def __init__(self, reply=None):
        self.reply = reply or (lambda s, r, b: b"Kthanks")
        self.messages = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rwb") as f:
                while True:
                    body = read_netstring(f, eof_ok=True)
                    if body is None:
                        break
                    sender = read_netstring(f).decode()
                    rl = read_netstring(f)
                    rcpts = []
                    while rl:
                        n, rest = rl.split(b":", 1)
                        rcpts.append(rest[:int(n)].decode())
                        rl = rest[int(n) + 1:]
                    r = self.reply(sender, rcpts, body)
                    if r.startswith(b"K"):
                        self.messages.append((sender, rcpts, body))
                    f.write(b"%d:%s," % (len(r), r))
                    f.flush()

    def close(self):
        self.sock.close()


def put_message(maildir, name, sender, rcpt, body="Subject: test\n\nhello\n", age=10):
    """A file as qmail-local writes it, `age` seconds old (maildirserial
    leaves files of the current second alone)."""
    p = os.path.join(maildir, "new", name)
    with open(p, "w") as f:
        f.write(f"Return-Path: <{sender}>\nDelivered-To: {rcpt}\n{body}")
    t = time.time() - age
    os.utime(p, (t, t))
    return p


def files(maildir):
    return sorted(os.listdir(os.path.join(maildir, "new")) + os.listdir(os.path.join(maildir, "cur")))


@unittest.skipUnless(HAVE_AIOSMTPD, "python3-aiosmtpd is needed")
class SerialSmtpTest(evq.TreeTest):
    def setUp(self):
        super().setUp()
        self.rec = Recorder()
        self.port = evq.free_port()
        self.ctl = Controller(self.rec, hostname="127.0.0.1", port=self.port)
        self.ctl.start()
        self.addCleanup(self.ctl.stop)
        self.md = os.path.join(self.t.base, "127.0.0.1")
        self.t.run("maildirmake", self.md)

    def maildirsmtp(self, *extra_env, check=False):
        env = {"MAILDIRSMTP_PORT": str(self.port)}
        return self.t.run("maildirsmtp", self.md, PREFIX, "127.0.0.1", "isp.example", env=env,
                          check=check, timeout=60)

    def test_delivers_prefixed_messages_and_removes_them(self):
        put_message(self.md, "1.a.x", "bob@a.example", PREFIX + "joe@virt.dom",
                    body="Subject: one\n\n.leading dot\nline\n")
        put_message(self.md, "2.a.x", "", PREFIX + "ann@virt.dom")
        put_message(self.md, "3.a.x", "bob@a.example", "autoturn-127.0.0.9-joe@virt.dom")
        p = self.maildirsmtp()
        self.assertEqual(p.returncode, 0, p.stderr)
        got = sorted((m[0], tuple(m[1]), m[2]) for m in self.rec.messages)
        self.assertEqual(len(got), 2)
        self.assertEqual(got[0][:2], ("<>", ("ann@virt.dom",)))  # aiosmtpd's null sender
        self.assertEqual(got[1][:2], ("bob@a.example", ("joe@virt.dom",)))
        # Return-Path and Delivered-To are not sent; dots survive the trip.
        self.assertEqual(got[1][2].replace(b"\r\n", b"\n"), b"Subject: one\n\n.leading dot\nline\n")
        self.assertEqual(files(self.md), ["3.a.x"])  # another customer's file stays
        self.assertIn(b"maildirserial: info: new/1.a.x succeeded: 127.0.0.1 said: 250 accepted", p.stderr)

    def test_new_files_of_this_second_wait(self):
        put_message(self.md, "1.a.x", "bob@a.example", PREFIX + "joe@virt.dom", age=-5)
        p = self.maildirsmtp()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.rec.messages, [])
        self.assertEqual(files(self.md), ["1.a.x"])

    def test_temporary_refusal_keeps_the_message(self):
        put_message(self.md, "1.a.x", "bob@a.example", PREFIX + "joe@virt.dom")
        self.rec.rcpt_code = "451 try later"
        p = self.maildirsmtp()
        self.assertEqual(p.returncode, 111, p.stderr)
        self.assertIn(b"new/1.a.x failed temporarily: 127.0.0.1 said: 451 try later", p.stderr)
        self.assertEqual(files(self.md), ["1.a.x"])
        # The customer takes it next time.
        self.rec.rcpt_code = None
        p = self.maildirsmtp()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.rec.messages), 1)
        self.assertEqual(files(self.md), [])

    def test_permanent_refusal_without_b_stays(self):
        put_message(self.md, "1.a.x", "bob@a.example", PREFIX + "joe@virt.dom")
        self.rec.data_code = "554 no thanks"
        env = self.t.env(TCPREMOTEIP=None)
        p = subprocess.run([os.path.join(self.t.bin, "maildirserial"), self.md, PREFIX,
                            os.path.join(self.t.bin, "tcpclient"), "-RHl0", "127.0.0.1", str(self.port),
                            os.path.join(self.t.bin, "serialsmtp"), PREFIX, "isp.example"],
                           env=env, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 111, p.stderr)
        self.assertIn(b"new/1.a.x failed: 127.0.0.1 said: 554 no thanks", p.stderr)
        self.assertEqual(files(self.md), ["1.a.x"])
        self.assertTrue(self.t.queue_empty())

    def test_permanent_refusal_bounces_with_maildirsmtp(self):
        # maildirsmtp is maildirserial -b: the sender gets a bounce, the file goes.
        put_message(self.md, "1.a.x", "bob@a.example", PREFIX + "joe@virt.dom")
        self.rec.rcpt_code = "550 no such user"
        p = self.maildirsmtp()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"new/1.a.x bounced: 127.0.0.1 said: 550 no such user", p.stderr)
        self.assertRegex(p.stderr, rb"returned new/1.a.x: qp \d+")
        self.assertEqual(files(self.md), [])
        self.assertFalse(self.t.queue_empty())

    def test_unreachable_host_keeps_everything(self):
        put_message(self.md, "1.a.x", "bob@a.example", PREFIX + "joe@virt.dom")
        self.port = evq.free_port()  # nothing listens there
        p = self.maildirsmtp()
        self.assertEqual(p.returncode, 111, p.stderr)
        self.assertIn(b"making no progress", p.stderr)
        self.assertEqual(files(self.md), ["1.a.x"])
        self.assertTrue(self.t.queue_empty())

    def test_overlapping_setlock_runs_deliver_once(self):
        for i in range(4):
            put_message(self.md, f"{i}.a.x", "bob@a.example", PREFIX + f"u{i}@virt.dom")
        self.rec.delay = 0.5
        lock = os.path.join(self.md, "seriallock")
        env = self.t.env(MAILDIRSMTP_PORT=str(self.port))
        argv = [os.path.join(self.t.bin, "setlock"), "-nx", lock, "maildirsmtp", self.md, PREFIX,
                "127.0.0.1", "isp.example"]
        first = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        evq.wait_for(lambda: self.rec.sessions >= 1, 20, what="the first delivery's session")
        second = subprocess.run(argv, env=env, capture_output=True, timeout=30)
        self.assertEqual(second.returncode, 0)
        self.assertEqual(second.stderr, b"")  # -x: silent
        out, err = first.communicate(timeout=60)
        self.assertEqual(first.returncode, 0, err)
        rcpts = sorted(r for m in self.rec.messages for r in m[1])
        self.assertEqual(rcpts, [f"u{i}@virt.dom" for i in range(4)])
        self.assertEqual(self.rec.sessions, 1)
        self.assertEqual(files(self.md), [])
        # A later run finds nothing to do.
        third = subprocess.run(argv, env=env, capture_output=True, timeout=30)
        self.assertEqual(third.returncode, 0)
        self.assertEqual(len(self.rec.messages), 4)

    def test_local_delivery_then_flush(self):
        """virtualdomains -> users/assign wildcard -> .qmail-default maildir
        line -> maildirsmtp: the envelope comes back as it was."""
        t = self.t
        cust = os.path.join(t.base, "autoturn")
        os.makedirs(cust)
        md = os.path.join(cust, "127.0.0.1")
        t.run("maildirmake", md)
        t.dot_qmail(cust, "-127:0:0:1-default", "./127.0.0.1/\n")
        t.assign.append(f"+autoturn-:{os.getuid()}:{t.uid}:{t.gid}:{cust}:-::")
        t.newu()
        t.control("virtualdomains", "virt.dom:autoturn-127.0.0.1\n")
        t.start()
        t.inject("From: bob@a.example\nTo: joe@virt.dom\nSubject: via queue\n\nqueued\n", "-f", "bob@a.example", "joe@virt.dom")
        t.wait_maildir(md, 1)
        # maildirserial skips files of the current second: age them.
        for n in os.listdir(os.path.join(md, "new")):
            p = os.path.join(md, "new", n)
            os.utime(p, (time.time() - 5, time.time() - 5))
        p = t.run("maildirsmtp", md, PREFIX, "127.0.0.1", "isp.example",
                  env={"MAILDIRSMTP_PORT": str(self.port)}, check=False, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.rec.messages), 1)
        sender, rcpts, body = self.rec.messages[0]
        self.assertEqual((sender, rcpts), ("bob@a.example", ["joe@virt.dom"]))
        self.assertIn(b"queued", body)
        self.assertNotIn(b"Delivered-To: autoturn", body)
        self.assertEqual(t.maildir_count(md), 0)


class SerialQmtpTest(evq.TreeTest):
    def test_maildirqmtp_accepts_and_refuses(self):
        def reply(sender, rcpts, body):
            return b"Zmailbox busy" if rcpts == ["busy@virt.dom"] else b"Kok 42"
        srv = QmtpServer(reply)
        self.addCleanup(srv.close)
        md = os.path.join(self.t.base, "cust")
        self.t.run("maildirmake", md)
        put_message(md, "1.a.x", "bob@a.example", PREFIX + "joe@virt.dom", body="Subject: q\n\nbody\n")
        put_message(md, "2.a.x", "bob@a.example", PREFIX + "busy@virt.dom")
        p = self.t.run("maildirqmtp", md, PREFIX, "127.0.0.1", env={"MAILDIRQMTP_PORT": str(srv.port)},
                       check=False, timeout=60)
        self.assertEqual(p.returncode, 111, p.stderr)
        self.assertEqual(srv.messages, [("bob@a.example", ["joe@virt.dom"], b"\nSubject: q\n\nbody\n")])
        self.assertIn(b"new/1.a.x succeeded: 127.0.0.1 said: ok 42", p.stderr)
        self.assertIn(b"new/2.a.x failed temporarily: 127.0.0.1 said: mailbox busy", p.stderr)
        self.assertEqual(files(md), ["2.a.x"])


class SetlockTest(evq.TreeTest):
    def setlock(self, *args, **kw):
        return subprocess.run([os.path.join(self.t.bin, "setlock"), *args], capture_output=True,
                              timeout=30, env=self.t.env(), **kw)

    def test_runs_program_with_lock_held(self):
        lock = os.path.join(self.t.base, "lock")
        p = self.setlock(lock, "sh", "-c", "echo ran")
        self.assertEqual((p.returncode, p.stdout), (0, b"ran\n"))
        self.assertTrue(os.path.exists(lock))
        # The program inherits the lock: a nested -n attempt finds it busy.
        p = self.setlock(lock, os.path.join(self.t.bin, "setlock"), "-n", lock, "true")
        self.assertEqual(p.returncode, 111)
        self.assertIn(b"setlock: fatal: unable to lock", p.stderr)

    def test_busy_lock_n_x_and_wait(self):
        lock = os.path.join(self.t.base, "lock")
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        p = self.setlock("-n", lock, "echo", "no")
        self.assertEqual(p.returncode, 111)
        self.assertEqual(p.stdout, b"")
        p = self.setlock("-nx", lock, "echo", "no")
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, b"", b""))
        # -X after -x restores the error; the last flag wins.
        p = self.setlock("-nxX", lock, "echo", "no")
        self.assertEqual(p.returncode, 111)
        # Without -n it waits for the holder.
        w = subprocess.Popen([os.path.join(self.t.bin, "setlock"), lock, "echo", "waited"],
                             stdout=subprocess.PIPE, env=self.t.env())
        with self.assertRaises(subprocess.TimeoutExpired):
            w.wait(0.5)
        os.close(fd)
        out, _ = w.communicate(timeout=20)
        self.assertEqual((w.returncode, out), (0, b"waited\n"))

    def test_unopenable_file(self):
        missing = os.path.join(self.t.base, "no", "such", "lock")
        p = self.setlock("-x", missing, "echo", "no")
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, b"", b""))
        p = self.setlock(missing, "echo", "no")
        self.assertEqual(p.returncode, 111)
        self.assertIn(b"setlock: fatal: unable to open", p.stderr)
        p = self.setlock("-z", missing, "echo")
        self.assertEqual(p.returncode, 100)
        p = self.setlock(missing)
        self.assertEqual(p.returncode, 100)


if __name__ == "__main__":
    unittest.main()
