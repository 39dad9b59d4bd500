"""Hostile input end to end (issue "Security"): envelope addresses that carry
CR/LF into SMTP commands, headers or delivery environments, replies that a
client does not read, endless lines. Each test names the finding it pins and
fails without the fix."""
import os
import socket
import subprocess

import evq
from evq import FQDN
from smtpsink import Sink, netstring, read_netstring

SINK_IP = "127.0.0.5"   # not one of our interface addresses
INJECT = "a\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<victim@elsewhere.example>\r\nDATA\r\n@x.example"


class EnvelopeInjectionTest(evq.TreeTest):
    """Finding 1, 2 and 10: CR and LF never travel inside an address."""

    def setUp(self):
        super().setUp()
        self.home = self.t.add_user("joe")

    def test_qmail_remote_keeps_the_command_line(self):
        sink = Sink(SINK_IP)
        self.addCleanup(sink.stop)
        msg = b"Subject: x\n\nbody\n"
        p = self.t.run("qmail-remote", SINK_IP, "s@a.example", INJECT, "ok@x.example",
                       input=msg, env={"SMTPPORT": str(sink.port)})
        reports = p.stdout.split(b"\0")
        self.assertEqual(reports[0],
                         b"hSorry, this address contains characters that SMTP cannot carry. (#5.1.3)\n")
        self.assertEqual(reports[1], b"r")
        self.assertTrue(reports[2].startswith(b"K"), reports)
        sink.wait(1)
        self.assertEqual(sink.handler.rcpts(), ["ok@x.example"])
        self.assertEqual(len(sink.handler.messages), 1)

    def test_qmail_remote_unsafe_sender_fails_without_a_connection(self):
        sink = Sink(SINK_IP)
        self.addCleanup(sink.stop)
        p = self.t.run("qmail-remote", SINK_IP, "s\n@a.example", "ok@x.example",
                       input=b"Subject: x\n\nbody\n", env={"SMTPPORT": str(sink.port)})
        self.assertEqual(p.stdout,
                         b"DSorry, the envelope sender contains characters that SMTP cannot carry. (#5.1.7)\n\0")
        self.assertEqual(sink.handler.sessions, 0)

    def test_qmail_queue_refuses_cr_and_lf(self):
        for env in (b"Fs@a.example\0Tjoe@" + FQDN.encode() + b"\nBcc: x\0\0",
                    b"Fs\r@a.example\0Tjoe@" + FQDN.encode() + b"\0\0"):
            self.assertEqual(self._queue_raw(env), 91, env)
        self.assertEqual(self._queue_raw(b"Fs@a.example\0Tjoe@" + FQDN.encode() + b"\0\0"), 0)

    def _queue_raw(self, envelope):
        """qmail-queue with message "x\\n" on fd 0 and raw envelope bytes on fd 1."""
        r, w = os.pipe()
        os.write(w, envelope)
        os.close(w)
        try:
            p = subprocess.run([os.path.join(self.t.bin, "qmail-queue")], input=b"Subject: x\n\nx\n",
                               stdout=r, env=self.t.env(), timeout=30)
        finally:
            os.close(r)
        return p.returncode

    def test_qmtp_refuses_control_characters_before_delivery(self):
        # Finding 10: what would reach $RECIPIENT / $LOCAL of a |program.
        out = os.path.join(self.home, "seen")
        self.t.dot_qmail(self.home, "-default", f'|echo "$LOCAL" >> {out}\n')
        self.t.control("rcpthosts", FQDN + "\n")
        _, port = self.t.serve("qmail-qmtpd", opts=("-R", "-H", *self.t.daemon_opts()))
        self.t.start()
        bad = f"joe-a\r\nb@{FQDN}".encode()
        good = f"joe-ok@{FQDN}".encode()
        packet = netstring(b"\nSubject: q\n\nhi\n") + netstring(b"s@a.example") + \
            netstring(netstring(bad) + netstring(good))
        packet += netstring(b"\nSubject: q\n\nhi\n") + netstring(b"s\n@a.example") + \
            netstring(netstring(good))
        with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
            s.sendall(packet)
            f = s.makefile("rb")
            r = [read_netstring(f) for _ in range(3)]
        self.assertEqual(r[0], b"Dsorry, control characters are not allowed in addresses (#5.1.3)")
        self.assertRegex(r[1].decode(), r"^Kok \d+ qp \d+$")
        self.assertEqual(r[2], b"Dsorry, control characters are not allowed in addresses (#5.1.7)")
        evq.wait_for(lambda: os.path.exists(out), 20, what="the |program delivery")
        self.t.wait_queue_empty()
        with open(out, "rb") as fh:
            seen = fh.read()
        self.assertTrue(seen.endswith(b"-ok\n") and seen.count(b"\n") == 1 and b"\r" not in seen, seen)


class QmtpAmplificationTest(evq.TreeTest):
    """Finding 4: a recipient list of empty addresses does not make
    qmail-qmtpd hold its replies in memory while the client does not read."""

    def test_replies_stream_while_the_client_reads_nothing(self):
        self.t.control("rcpthosts", FQDN + "\n")
        _, port = self.t.serve("qmail-qmtpd", opts=("-R", "-H", *self.t.daemon_opts()))
        n = 1_800_000   # 9 MB of "2:@x," -> 1,800,000 refusals of 70 bytes (126 MB if held)
        packet = netstring(b"\nx\n") + netstring(b"s@a.example") + netstring(b"2:@x," * n)
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        s.sendall(packet)
        s.shutdown(socket.SHUT_WR)
        pid = evq.wait_for(lambda: self.qmtpd_pid(), 20, what="qmail-qmtpd")
        # Once it has read everything and sleeps (blocked writing replies
        # nobody reads), its peak memory is what the message cost it.
        evq.wait_for(lambda: self.read_bytes(pid) >= len(packet) and self.state(pid) == "S", 60,
                     what="qmail-qmtpd to read the message and block on its replies")
        self.assertLess(self.peak_kb(pid), 64_000, "peak RSS in kB of qmail-qmtpd")
        # The replies are all there for a client that reads them.
        f = s.makefile("rb")
        want = b"Dsorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"
        self.assertEqual(read_netstring(f), want)
        rest = f.read()
        self.assertEqual(len(rest), (n - 1) * len(netstring(want)))
        self.assertEqual(rest[-len(netstring(want)):], netstring(want))
        s.close()

    def qmtpd_pid(self):
        for pid, argv in self.t.processes().items():
            if argv[0].endswith(b"qmail-qmtpd"):
                return pid
        return None

    @staticmethod
    def state(pid):
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]

    @staticmethod
    def read_bytes(pid):
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
        return 0

    @staticmethod
    def peak_kb(pid):
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0
