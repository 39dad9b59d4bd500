"""Hostile input end to end (issue "Security"): envelope addresses that carry
CR/LF into SMTP commands, headers or delivery environments, replies that a
client does not read, endless lines. Each test names the finding it pins and
fails without the fix."""
import os
import socket
import subprocess
import time

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


class EndlessInputTest(evq.TreeTest):
    """Findings 3, 8 and 11: what a hostile client sends before it has
    authenticated (or instead of a command) is bounded."""

    def read_until_closed(self, s, deadline=30):
        s.settimeout(deadline * evq.TIME_SCALE)
        got = b""
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            got += b
        return got

    def send_endless(self, s, total=1 << 20):
        """Sends up to `total` bytes without a LF; stops early once the peer
        has given up on them."""
        chunk = b"y" * 4096
        try:
            for _ in range(total // len(chunk)):
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def test_smtpd_ends_an_endless_line(self):
        _, port = self.t.serve("qmail-smtpd", opts=("-R", "-H", *self.t.daemon_opts()))
        with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
            s.recv(1000)
            s.sendall(b"NOOP ")
            self.send_endless(s)
            self.assertEqual(self.read_until_closed(s), b"500 5.5.2 line too long\r\n")

    def popup(self, checker, extra_env=None):
        env = {"POPUP_FAILDELAY": "0", **(extra_env or {})}
        _, port = self.t.serve("qmail-popup", FQDN, checker, "true", env=env)
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.addCleanup(s.close)
        self.assertTrue(s.recv(1000).startswith(b"+OK <"))
        return s

    def test_popup_ends_an_endless_line(self):
        s = self.popup("/bin/false")
        self.send_endless(s, 64 << 10)
        self.assertEqual(self.read_until_closed(s), b"-ERR line too long\r\n")

    def test_popup_authorization_state_has_a_lifetime(self):
        s = self.popup("/bin/false", {"POPUP_LIFETIME": "2"})
        replies = b""
        start = time.monotonic()
        # A client that keeps the session busy with NOOPs is still let go.
        while time.monotonic() - start < 30 * evq.TIME_SCALE:
            try:
                s.sendall(b"NOOP\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            s.settimeout(0.5)
            try:
                b = s.recv(1000)
            except socket.timeout:
                continue
            except ConnectionResetError:
                # The NOOP crossed the server's close: the reply written
                # before it has been read already.
                break
            if not b:
                break
            replies += b
        self.assertTrue(replies.startswith(b"+OK \r\n"), replies)
        self.assertTrue(replies.endswith(b"-ERR autologout: time limit exceeded\r\n"), replies)

    def test_popup_apop_digest_cannot_carry_a_timestamp(self):
        block = os.path.join(self.t.base, "block")
        checker = os.path.join(self.t.base, "record-fd3")
        with open(checker, "w") as f:
            f.write(f"#!/bin/sh\ncat <&3 > {block}\nexit 1\n")
        os.chmod(checker, 0o755)
        s = self.popup(checker)
        s.sendall(b"APOP joe c4c9334bac560ecc979e58001b3e22fb\0<1.1@old.example>\r\n")
        self.assertEqual(self.read_until_closed(s), b"-ERR authorization failed\r\n")
        with open(block, "rb") as f:
            fields = f.read().split(b"\0")
        self.assertEqual(fields[:2], [b"joe", b"c4c9334bac560ecc979e58001b3e22fb"])
        self.assertRegex(fields[2].decode(), r"^<\d+\.\d+@" + FQDN.replace(".", r"\.") + ">$")
        self.assertEqual(fields[3:], [b""])


class PrivilegeTest(evq.TreeTest):
    """Finding 7: tcpserver never stays root by accident."""

    def tcpserver(self, *opts, env=None):
        e = {k: v for k, v in os.environ.items() if k not in ("UID", "GID")}
        e.update(env or {})
        return subprocess.run([os.path.join(self.t.bin, "tcpserver"), *opts, "127.0.0.1", "0", "true"],
                              env=e, capture_output=True, timeout=20 * evq.TIME_SCALE)

    def test_tcpserver_without_usable_ids_does_not_start(self):
        for env in ({}, {"UID": "7770"}, {"GID": "2108"}, {"UID": "qmaild", "GID": "2108"}):
            p = self.tcpserver("-U", env=env)
            self.assertEqual(p.returncode, 100, env)
            self.assertIn(b"-U needs $UID and $GID", p.stderr)
        p = self.tcpserver("-u", str(os.getuid()))
        self.assertEqual(p.returncode, 100)
        self.assertIn(b"-u without -g", p.stderr)
