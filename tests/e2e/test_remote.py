"""Remote delivery end to end: qmail-send -> qmail-rspawn -> qmail-remote ->
a real SMTP server (aiosmtpd) on loopback, with MX records served by dnsmasq
on a loopback high port (DNSSERVERS) and the SMTP port set by SMTPPORT."""
import os
import signal
import socket
import threading
import time
import unittest

import evq
from smtpsink import Sink


SINK_IP = "127.0.0.5"   # not one of our interface addresses, so not "ipme"


class Dns:
    """dnsmasq on 127.0.0.1:free port, answering only the records given."""

    def __init__(self, base, records):
        self.port = evq.free_port("127.0.0.1")
        argv = ["/usr/sbin/dnsmasq", "--no-daemon", f"--port={self.port}",
                "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
                "--no-hosts", "--pid-file=", "--log-facility=-", *records]
        self.svc = evq.Service(argv, {"PATH": "/usr/bin:/bin"}, os.path.join(base, "dnsmasq.log"))
        evq.wait_for(lambda: self._udp_listening() or self.svc.proc.poll() is not None, 20,
                     what="dnsmasq")
        if self.svc.proc.poll() is not None:
            raise AssertionError("dnsmasq exited: " + self.svc.log())

    def _udp_listening(self):
        want = ":%04X" % self.port
        with open("/proc/net/udp") as fh:
            return any(line.split()[1].endswith(want) for line in list(fh)[1:])

    def servers(self):
        return f"127.0.0.1:{self.port}"


class ServfailUpstream:
    """The upstream server dnsmasq forwards one domain to: it answers every
    query with SERVFAIL (the query echoed back with QR set and RCODE 2)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.answered = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                q, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            if len(q) < 12:
                continue
            flags = (q[2] | 0x80, (q[3] & 0xF0) | 2)  # QR; RCODE SERVFAIL
            self.sock.sendto(q[:2] + bytes(flags) + q[4:], peer)
            self.answered += 1

    def close(self):
        self.sock.close()


class RemoteTest(evq.TreeTest):
    def setUp(self):
        super().setUp()
        self.sink = Sink(SINK_IP)
        self.addCleanup(self.sink.stop)
        self.alice = self.t.add_user("alice")

    def dns(self, *records):
        d = Dns(self.t.base, records)
        self.t.services.append(d.svc)
        return d

    def start(self, dns=None, **extra):
        env = {"SMTPPORT": str(self.sink.port)}
        if dns:
            env["DNSSERVERS"] = dns.servers()
        env.update(extra)
        self.t.start(extra_env=env)

    def mail(self, to, subject="hi", body="hello\n.leading dot\n"):
        self.t.inject(f"From: alice@{self.t.fqdn}\nTo: {to}\nSubject: {subject}\n\n{body}",
                      "-f", f"alice@{self.t.fqdn}")

    # -- tests -------------------------------------------------------------
    def test_mx_delivery(self):
        d = self.dns("--mx-host=remote.example,mx.remote.example,10",
                     f"--host-record=mx.remote.example,{SINK_IP}")
        self.start(d)
        self.mail("bob@remote.example")
        (frm, rcpts, content), = self.sink.wait(1)
        self.assertEqual(frm, f"alice@{self.t.fqdn}")
        self.assertEqual(rcpts, ["bob@remote.example"])
        self.assertIn(b"\r\n.leading dot\r\n", content.replace(b"\n", b"\r\n").replace(b"\r\r", b"\r"))
        self.t.wait_log(r"delivery \d+: success: " + SINK_IP.replace(".", r"\.") + r"_accepted_message\./Remote_host_said:_250_accepted")
        self.t.wait_queue_empty()

    def test_null_client_route(self):
        # FAQ 2.2: everything to one relay, given with host:port.
        self.t.control("smtproutes", f":{SINK_IP}:{self.sink.port}\n")
        self.start(SMTPPORT="1")
        self.mail("carol@anywhere.example")
        self.assertEqual(self.sink.wait(1)[0][1], ["carol@anywhere.example"])

    def test_5xx_bounces_to_sender(self):
        self.sink.handler.rcpt_code = "550 5.1.1 no such user here"
        self.t.control("smtproutes", f"remote.example:{SINK_IP}\n")
        self.start()
        self.mail("nobody@remote.example")
        msgs = self.t.wait_maildir(os.path.join(self.alice, "Maildir"), 1, timeout=30)
        text = msgs[0].as_string()
        self.assertIn("<nobody@remote.example>:", text)
        self.assertIn(f"{SINK_IP} does not like recipient.", text)
        self.assertIn("Remote host said: 550 5.1.1 no such user here", text)
        self.assertIn("Giving up on " + SINK_IP, text)

    def test_4xx_then_recovers_after_alrm(self):
        # FAQ 7.2: the server defers; it recovers; ALRM retries at once.
        self.sink.handler.data_code = "451 try again later"
        self.t.control("smtproutes", f"remote.example:{SINK_IP}\n")
        self.start()
        self.mail("bob@remote.example")
        self.t.wait_log(r"delivery \d+: deferral: .*failed_after_I_sent_the_message")
        self.sink.handler.data_code = None
        self.assertEqual(self.sink.handler.messages, [])
        self.t.signal(signal.SIGALRM)
        self.sink.wait(1)
        self.t.wait_queue_empty()

    def test_server_never_answers(self):
        silent = socket.socket()
        silent.bind((SINK_IP, 0))
        silent.listen(5)
        self.addCleanup(silent.close)
        self.t.control("smtproutes", f"remote.example:{SINK_IP}:{silent.getsockname()[1]}\n")
        self.t.control("timeoutremote", "2\n")
        self.t.control("timeoutconnect", "2\n")
        self.start()
        t0 = time.monotonic()
        self.mail("bob@remote.example")
        self.t.wait_log(r"delivery \d+: deferral: Connected_to_127\.0\.0\.5_but_connection_died\._\(#4\.4\.2\)")
        self.assertLess(time.monotonic() - t0, 15 * evq.TIME_SCALE)

    def test_best_mx_is_me(self):
        d = self.dns("--mx-host=loop.example,mx.loop.example,10", "--host-record=mx.loop.example,127.0.0.1")
        self.start(d)
        self.mail("x@loop.example")
        msgs = self.t.wait_maildir(os.path.join(self.alice, "Maildir"), 1, timeout=30)
        self.assertIn("Although I'm listed as a best-preference MX or A for that host,",
                      msgs[0].as_string())

    def test_ipv6_relay_and_mx(self):
        # AAAA records (remote.md 4 [WEAKNESS]: qmail knew only A): a relay
        # named in smtproutes whose only address is ::1 is reached over IPv6,
        # and an MX whose address is our own ::1 is recognised as us.
        try:
            sink6 = Sink("::1", port=self.sink.port)
        except OSError as e:
            self.skipTest(f"no IPv6 loopback here: {e}")
        self.addCleanup(sink6.stop)
        self.t.control("smtproutes", "v6.example:relay6.example\n")
        d = self.dns("--host-record=relay6.example,::1",
                     "--mx-host=loop6.example,mx.loop6.example,10", "--host-record=mx.loop6.example,::1")
        self.start(d)
        self.mail("bob@v6.example", subject="over six")
        ((mail_from, rcpts, content),) = sink6.wait(1)
        self.assertEqual(rcpts, ["bob@v6.example"])
        self.assertIn(b"Subject: over six", content)
        self.t.wait_log(r"delivery \d+: success: ::1_accepted_message")
        self.assertEqual(self.sink.handler.messages, [])
        self.mail("x@loop6.example")
        msgs = self.t.wait_maildir(os.path.join(self.alice, "Maildir"), 1, timeout=30)
        self.assertIn("Although I'm listed as a best-preference MX or A for that host,", msgs[0].as_string())
        # An RFC 5321 IPv6 literal is an address, not a name to look up.
        self.mail("y@[IPv6:0::1]")
        msgs = self.t.wait_maildir(os.path.join(self.alice, "Maildir"), 2, timeout=30)
        (lit,) = [m.as_string() for m in msgs if "y@[IPv6:0::1]" in m.as_string()]
        self.assertIn("Although I'm listed as a best-preference MX or A for that host,", lit)

    def test_no_such_domain_fails(self):
        self.t.control("smtproutes", "")
        bad = self.dns("--address=/gone.example/")  # NXDOMAIN for this name
        self.start(bad)
        self.mail("x@gone.example")
        self.t.wait_log(r"delivery \d+: failure: Sorry,_I_couldn't_find_any_host_named_gone\.example\._\(#5\.1\.2\)")

    def test_dns_failure_defers(self):
        # FAQ 2.5 / remote.md: a temporary DNS failure defers the message; it
        # never bounces.  dnsmasq forwards flaky.example to an upstream that
        # answers SERVFAIL, and silent.example to one that never answers
        # (qmail-remote gives up after the C library's 5 s + 10 s).
        self.t.control("smtproutes", "")
        upstream = ServfailUpstream()
        self.addCleanup(upstream.close)
        dead = evq.free_port("127.0.0.1")
        d = self.dns(f"--server=/flaky.example/127.0.0.1#{upstream.port}",
                     f"--server=/silent.example/127.0.0.1#{dead}")
        self.start(d)
        self.mail("x@flaky.example")
        self.mail("y@silent.example")
        deferral = r"delivery \d+: deferral: Sorry,_I_couldn't_find_any_host_by_that_name\._\(#4\.1\.2\)"
        self.t.wait_log(deferral, count=2, timeout=60)
        self.assertGreater(upstream.answered, 0)
        self.assertNotIn("failure:", self.t.log())
        queued = self.t.run("qmail-qread").stdout
        self.assertIn(b"x@flaky.example", queued)
        self.assertIn(b"y@silent.example", queued)
        self.assertEqual(self.t.maildir_count(os.path.join(self.alice, "Maildir")), 0)

    def test_faq_4_1_forward_unknown_users(self):
        self.t.control("smtproutes", f"otherhost.example:{SINK_IP}\n")
        alias = self.t.path("alias")
        self.t.dot_qmail(alias, "-default", '| forward "$LOCAL"@otherhost.example\n')
        self.start()
        self.t.inject(f"To: stranger@{self.t.fqdn}\nSubject: x\n\nhi\n", f"stranger@{self.t.fqdn}")
        self.assertEqual(self.sink.wait(1)[0][1], ["stranger@otherhost.example"])

    def _concurrency(self, n):
        self.sink.handler.delay = 0.5
        self.t.control("smtproutes", f"remote.example:{SINK_IP}\n")
        self.t.control("concurrencyremote", f"{n}\n")
        for i in range(8):
            self.mail(f"u{i}@remote.example")
        self.start()
        self.sink.wait(8, timeout=60)
        return self.sink.handler.max_active

    def test_concurrency_1(self):
        self.assertEqual(self._concurrency(1), 1)

    def test_concurrency_100(self):
        self.assertGreater(self._concurrency(100), 1)

    def test_tcpto_tools(self):
        p = self.t.run("qmail-tcpto")
        self.assertEqual(p.stdout, b"")
        self.t.run("qmail-tcpok")
        with open(self.t.path("queue", "lock", "tcpto"), "rb") as f:
            self.assertEqual(f.read(), b"\0" * 1024)


if __name__ == "__main__":
    unittest.main()
