"""qmail-queued end to end: qmail-start runs it beside qmail-send; qmail-smtpd
(and qmail-qmtpd) hand it their messages instead of running qmail-queue per
message, and fall back to qmail-queue when it is absent, when $QMAILQUEUE is
set, or when bin/qmail-queue has been replaced by a wrapper. Clients are
smtplib; the socket is also spoken to raw, as a hostile local user would."""
import os
import re
import shutil
import signal
import smtplib
import socket
import stat
import struct

import evq

FQDN = evq.FQDN


class QueuedTest(evq.TreeTest):

    def setUp(self):
        super().setUp()
        self.home = self.t.add_user("joe")
        self.maildir = os.path.join(self.home, "Maildir")
        self.sock = self.t.path("queued", "socket")

    def daemon_pids(self):
        return [p for p, a in self.t.processes().items() if a[0].endswith(b"qmail-queued")]

    def start(self):
        self.t.start()
        evq.wait_for(lambda: self.daemon_pids() and os.path.exists(self.sock), 20, what="qmail-queued")

    def serve(self, env=None):
        tcpserver = None if os.path.exists(os.path.join(self.t.bin, "tcpserver")) else "/usr/bin/tcpserver"
        return self.t.serve("qmail-smtpd", opts=("-R", "-H", *self.t.daemon_opts()), env=env,
                            tcpserver=tcpserver)[1]

    def send_two(self, port):
        """Two messages in one session; returns the qp numbers of the replies."""
        qps = []
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            s.ehlo("client.example")
            for n in (1, 2):
                s.mail("sender@example.net")
                s.rcpt(f"joe@{FQDN}")
                code, text = s.data(f"Subject: via {n}\r\n\r\nbody {n}\r\n".encode())
                self.assertEqual(code, 250, text)
                m = re.match(rb"ok \d+ qp (\d+)", text)
                self.assertTrue(m, text)
                qps.append(int(m.group(1)))
        return qps

    def received(self, count):
        return [m.as_bytes().decode("latin-1") for m in self.t.wait_maildir(self.maildir, count)]

    def test_smtpd_messages_go_through_the_daemon(self):
        self.start()
        port = self.serve()
        qps = self.send_two(port)
        # One qmail-smtpd handed both messages over: the qp is its pid, the
        # same for both (a qmail-queue per message would differ).
        self.assertEqual(qps[0], qps[1])
        msgs = self.received(2)
        how = "from network" if self.t.system else f"by uid {os.getuid()}"
        for m in msgs:
            self.assertRegex(m, rf"(?m)^Received: \(qmail {qps[0]} invoked {how}\); ")
            self.assertRegex(m, r"Received: from \S+ \(HELO client\.example\) \(127\.0\.0\.1\)\n"
                                r"  by \S+ with SMTP; ")
        uid = self.t.ids("qmaild")[0]
        self.assertEqual(len(re.findall(rf"info msg \d+: bytes \d+ from <sender@example\.net> qp {qps[0]} "
                                        rf"uid {uid}\b", self.t.log())), 2)
        self.t.wait_queue_empty()
        self.assertEqual(os.listdir(self.t.path("queue", "pid")), [])

    def test_without_the_daemon_qmail_queue_runs_per_message(self):
        self.start()
        for p in self.daemon_pids():
            os.kill(p, signal.SIGKILL)
        evq.wait_for(lambda: not self.daemon_pids(), 10, what="qmail-queued gone")
        port = self.serve()
        qps = self.send_two(port)
        self.assertNotEqual(qps[0], qps[1])
        self.assertEqual(len(self.received(2)), 2)

    def test_daemon_leaves_with_qmail_send(self):
        self.start()
        # TERM to qmail-send alone, as svc -d gives it: qmail-queued follows
        # and takes its socket with it (a stale one would only be refused).
        self.t.signal(signal.SIGTERM)
        self.t.send.wait(30)
        evq.wait_for(lambda: not self.daemon_pids(), 10, what="qmail-queued to exit")
        self.assertFalse(os.path.exists(self.sock))

    def notes_file(self, name):
        """A file every caller may append to (a wrapper's notes of its runs)."""
        notes = os.path.join(self.t.base, name + ".notes")
        open(notes, "w").close()
        os.chmod(notes, 0o666)
        os.chmod(self.t.base, os.stat(self.t.base).st_mode | 0o011)
        return notes

    def test_a_replaced_qmail_queue_sees_every_message(self):
        # The classic way to put a filter in front of the queue: move
        # qmail-queue aside and install a wrapper under its name.
        self.start()
        bin_q = self.t.path("bin", "qmail-queue")
        real = self.t.path("bin", "qmail-queue.real")
        shutil.copy2(bin_q, real)
        st = os.stat(bin_q)
        os.chown(real, st.st_uid, st.st_gid)
        os.chmod(real, stat.S_IMODE(st.st_mode))
        notes = self.notes_file("replaced")
        tmp = bin_q + ".new"
        with open(tmp, "w") as f:
            f.write(f"#!/bin/sh\necho ran >> {notes}\nexec {real}\n")
        os.chmod(tmp, 0o755)
        os.rename(tmp, bin_q)
        port = self.serve()
        qps = self.send_two(port)
        self.assertNotEqual(qps[0], qps[1])
        self.assertEqual(open(notes).read(), "ran\nran\n")
        self.assertEqual(len(self.received(2)), 2)

    def test_qmailqueue_is_honoured_while_the_daemon_runs(self):
        self.start()
        notes = self.notes_file("qmailqueue")
        script = os.path.join(self.t.base, "qq-wrapper")
        with open(script, "w") as f:
            f.write(f"#!/bin/sh\necho ran >> {notes}\nexec {self.t.path('bin', 'qmail-queue')}\n")
        os.chmod(script, 0o755)
        port = self.serve(env={"QMAILQUEUE": script})
        self.send_two(port)
        self.assertEqual(open(notes).read(), "ran\nran\n")
        self.assertEqual(len(self.received(2)), 2)

    # -- the socket spoken to directly ----------------------------------------
    def raw(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(20)
        s.connect(self.sock)
        self.assertEqual(s.recv(1), b"Y")
        return s

    def answer(self, s):
        b = s.recv(1)
        s.close()
        return b[0] if b else None

    def queue_files(self):
        q = self.t.path("queue")
        out = []
        for d in ("pid", "intd", "todo"):
            out += [f"{d}/{f}" for f in os.listdir(os.path.join(q, d))]
        for sub in os.listdir(os.path.join(q, "mess")):
            out += [f"mess/{sub}/{f}" for f in os.listdir(os.path.join(q, "mess", sub))]
        return out

    def test_raw_protocol_answers_qmail_queue_codes(self):
        self.start()
        self.t.wait_queue_empty()
        # A good message: answer 0, delivered, "invoked by uid" of the caller.
        s = self.raw()
        body = b"Subject: raw\n\nraw body\n"
        s.sendall(struct.pack(">I", len(body)) + body + struct.pack(">I", 0) +
                  b"Fraw@example.net\0Tjoe@" + FQDN.encode() + b"\0\0")
        self.assertEqual(self.answer(s), 0)
        [m] = self.received(1)
        self.assertRegex(m, rf"(?m)^Received: \(qmail {os.getpid()} invoked by uid {os.getuid()}\); ")
        self.assertIn("raw body", m)
        self.t.wait_queue_empty()
        # An envelope that does not start with F: qmail-queue's 91.
        s = self.raw()
        s.sendall(struct.pack(">I", 0) + b"Tjoe@x\0\0")
        self.assertEqual(self.answer(s), 91)
        # A frame longer than the protocol allows: 54, a read error.
        s = self.raw()
        s.sendall(struct.pack(">I", 1 << 30) + b"x" * 100)
        self.assertEqual(self.answer(s), 54)
        # An address over 1002 bytes: 11.
        s = self.raw()
        s.sendall(struct.pack(">I", 0) + b"F" + b"a" * 1003 + b"\0\0")
        self.assertEqual(self.answer(s), 11)
        # A caller that leaves halfway: nothing queued, nothing left behind.
        s = self.raw()
        s.sendall(struct.pack(">I", 5) + b"hello" + struct.pack(">I", 0) + b"Fa@b\0Tjoe@")
        s.close()
        evq.wait_for(lambda: not self.queue_files(), 10, what="no files left: " + " ".join(self.queue_files()))
        self.assertEqual(len(self.received(1)), 1)
        # The daemon is still there for the next caller.
        s = self.raw()
        s.sendall(struct.pack(">I", 0) + b"Fa@b\0Tjoe@" + FQDN.encode() + b"\0\0")
        self.assertEqual(self.answer(s), 0)
        self.assertEqual(len(self.received(2)), 2)


