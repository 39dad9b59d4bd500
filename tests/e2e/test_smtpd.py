"""qmail-smtpd, qmail-qmtpd and qmail-newmrh end to end: our tcpserver (or
Debian's until ours exists) running the real servers in a private tree, with
smtplib, swaks, raw sockets and a small QMTP client; messages are checked in
the Maildir after qmail-send delivered them (FAQ 5.1, 5.2, 5.4, 5.5)."""
import os
import re
import smtplib
import socket
import subprocess
import time

import evq
from smtpsink import netstring, read_netstring

FQDN = evq.FQDN


def our_tcpserver(t):
    """Our tcpserver when the tree has one, else Debian's ucspi-tcp."""
    return None if os.path.exists(os.path.join(t.bin, "tcpserver")) else "/usr/bin/tcpserver"


def our_tcprules(t):
    p = os.path.join(t.bin, "tcprules")
    return p if os.path.exists(p) else "/usr/bin/tcprules"


class Raw:
    """A line-oriented raw SMTP client (for what smtplib refuses to send)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.f = self.s.makefile("rb")

    def reply(self):
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                return lines
            lines.append(line.decode("latin-1"))
            if len(line) < 4 or line[3:4] != b"-":
                return lines

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode("latin-1"))

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self):
        """True when the server closed the connection (EOF)."""
        return self.f.read() == b""

    def close(self):
        self.f.close()
        self.s.close()


class SmtpdTest(evq.TreeTest):

    def setUp(self):
        super().setUp()
        self.home = self.t.add_user("joe")
        self.maildir = os.path.join(self.home, "Maildir")

    def serve(self, program="qmail-smtpd", opts=("-R", "-H"), env=None):
        """tcpserver running `program` with qmaild's uid and the nofiles gid
        (FAQ 5.1; the test user's own ids in a private tree)."""
        return self.t.serve(program, opts=(*opts, *self.t.daemon_opts()), env=env,
                            tcpserver=our_tcpserver(self.t))[1]

    def rules(self, text):
        """tcp rules file -> cdb (our tcprules if present, else Debian's)."""
        src = os.path.join(self.t.base, "tcp.smtp")
        cdb = src + ".cdb"
        with open(src, "w") as f:
            f.write(text)
        subprocess.run([our_tcprules(self.t), cdb, cdb + ".tmp"], stdin=open(src), check=True)
        return cdb

    def messages(self, count):
        return [m.as_bytes().decode("latin-1") for m in self.t.wait_maildir(self.maildir, count)]

    # -- FAQ 5.1: receiving mail over SMTP ---------------------------------
    def test_smtplib_message_delivered_with_received_line(self):
        port = self.serve()
        self.t.start()
        with smtplib.SMTP(timeout=20) as s:
            self.assertEqual(s.connect("127.0.0.1", port), (220, f"{FQDN} ESMTP".encode()))
            code, text = s.ehlo("client.example")
            self.assertEqual(code, 250)
            self.assertIn(b"PIPELINING", text)
            self.assertIn(b"8BITMIME", text)
            s.sendmail("sender@example.net", [f"joe@{FQDN}"],
                       b"Subject: over smtp\r\n\r\nline one\r\n.leading dot\r\n")
            self.assertEqual(s.noop()[0], 250)
            self.assertEqual(s.verify("joe")[0], 252)
        [m] = self.messages(1)
        self.assertIn("Subject: over smtp\n", m)
        self.assertIn("\nline one\n.leading dot\n", m)
        self.assertRegex(m, r"Received: from unknown \(HELO client\.example\) \(127\.0\.0\.1\)\n"
                            r"  by [\w.]+ with SMTP; \d+ \w{3} \d{4} \d\d:\d\d:\d\d -0000\n")
        self.assertIn("Return-Path: <sender@example.net>", m)

    def test_swaks_and_databytes(self):
        self.t.control("databytes", "2000\n")
        port = self.serve()
        self.t.start()
        p = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--to", f"joe@{FQDN}",
                            "--from", "s@example.net", "--header", "Subject: via swaks", "--body", "short"],
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
        [m] = self.messages(1)
        self.assertIn("Subject: via swaks", m)
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.ehlo("x")
            self.assertEqual(s.esmtp_features.get("size"), "2000")
            big = b"Subject: big\r\n\r\n" + b"x" * 3000 + b"\r\n"
            # smtplib declares SIZE=, refused at MAIL (RFC 1870) ...
            with self.assertRaises(smtplib.SMTPSenderRefused) as e:
                s.sendmail("s@example.net", [f"joe@{FQDN}"], big)
            self.assertEqual(e.exception.smtp_code, 552)
            # ... and without SIZE= the count after DATA refuses it.
            s.rset()
            s.mail("s@example.net")
            s.rcpt(f"joe@{FQDN}")
            self.assertEqual(s.data(big), (552, b"sorry, that message size exceeds my databytes limit (#5.3.4)"))

    def test_errors_and_pipelining(self):
        port = self.serve()
        r = Raw(port)
        self.assertEqual(r.reply(), [f"220 {FQDN} ESMTP\r\n"])
        r.send("RCPT TO:<joe@test.example>\r\nDATA\r\nMAIL FROM:<a@b>\r\nDATA\r\nEXPN joe\r\n"
               "NOOP " + "x" * 2000 + "\r\nRCPT TO:<x@elsewhere.example>\r\nRSET\r\nQUIT\r\n")
        got = []
        while len(got) < 9:
            got += r.reply()
        self.assertEqual(got, [
            "503 MAIL first (#5.5.1)\r\n", "503 MAIL first (#5.5.1)\r\n", "250 ok\r\n",
            "503 RCPT first (#5.5.1)\r\n", "502 unimplemented (#5.5.1)\r\n", "500 5.5.2 line too long\r\n",
            "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n",
            "250 flushed\r\n", f"221 {FQDN}\r\n"])
        self.assertTrue(r.closed())
        r.close()

    # -- FAQ 5.4: relaying only for RELAYCLIENT ------------------------------
    def test_relay_only_with_relayclient_from_tcprules(self):
        deny = 'smtplib.SMTPRecipientsRefused'
        port = self.serve()
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.helo("x")
            s.mail("a@b.example")
            self.assertEqual(s.rcpt("u@elsewhere.example")[0], 553, deny)
        cdb = self.rules('127.0.0.1:allow,RELAYCLIENT=""\n:allow\n')
        port2 = self.serve(opts=("-R", "-H", "-x", cdb))
        with smtplib.SMTP("127.0.0.1", port2, timeout=20) as s:
            s.helo("x")
            s.mail("a@b.example")
            self.assertEqual(s.rcpt("u@elsewhere.example")[0], 250)
        cdb2 = self.rules('127.0.0.2:allow,RELAYCLIENT=""\n:allow\n')
        port3 = self.serve(opts=("-R", "-H", "-x", cdb2))
        with smtplib.SMTP("127.0.0.1", port3, timeout=20) as s:
            s.helo("x")
            s.mail("a@b.example")
            self.assertEqual(s.rcpt("u@elsewhere.example")[0], 553)

    # -- FAQ 5.5: RELAYCLIENT="@fixme" ---------------------------------------
    def test_faq_5_5_fixme(self):
        self.t.control("virtualdomains", "fixme:fixup\n")
        alias = self.t.path("alias")
        inject = os.path.join(self.t.bin, "qmail-inject")
        self.t.dot_qmail(alias, "-fixup-default", f'| {inject} -f "$SENDER" -- "$DEFAULT"\n')
        cdb = self.rules('127.0.0.1:allow,RELAYCLIENT="@fixme"\n')
        port = self.serve(opts=("-R", "-H", "-x", cdb))
        self.t.start()
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.sendmail("s@example.net", ["joe"], b"Subject: unqualified\r\n\r\nhi\r\n")
        [m] = self.messages(1)
        self.assertIn("Subject: unqualified", m)
        self.assertIn("Delivered-To: joe@test.example", m)
        self.assertRegex(m, r"Received: from unknown \(HELO [^)]*\) \(127\.0\.0\.1\)\n  by ")

    # -- open-relay attempts from a client without RELAYCLIENT -------------
    def test_open_relay_forms_are_refused_or_local(self):
        forms = {
            "u@evil.example": "refused",
            "u@EVIL.example": "refused",
            "u@evil.example.": "refused",
            f"u@{FQDN}.": "refused",                       # trailing dot is another name
            f"u@sub.{FQDN}": "refused",
            f"u@{FQDN}@evil.example": "refused",
            "u@[192.0.2.1]": "refused",                    # foreign address literal
            f"@{FQDN}:u@evil.example": "refused",          # source route to the outside
            f"@{FQDN},@{FQDN}:u@evil.example": "refused",
            "u@evil.example%" + FQDN: "refused",
            " u@evil.example": "refused",
            f"u%evil.example@{FQDN}": "local",             # percent hack (not in percenthack)
            "u%evil.example": "local",
            f"evil.example!u@{FQDN}": "local",             # bang paths
            "evil.example!u": "local",
            f'"u@evil.example"@{FQDN}': "local",          # quoted local part
            f"u@evil.example@{FQDN}": "local",
            f"u\\@evil.example@{FQDN}": "local",
            f"@evil.example:u@{FQDN}": "local",            # source route into our domain
            "u@[127.0.0.1]": "local",                      # our own literal -> localiphost
        }
        self.assertGreaterEqual(len(forms), 15)
        port = self.serve()
        self.t.start()
        accepted = 0
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.helo("x")
            for addr, want in forms.items():
                s.rset()
                s.mail("")
                code, text = s.docmd("RCPT", f"TO:<{addr}>")
                with self.subTest(addr=addr):
                    if want == "refused":
                        self.assertIn(code, (553, 555), text)
                    else:
                        self.assertEqual(code, 250, text)
                        code, _ = s.data(b"Subject: relay test\r\n\r\nx\r\n")
                        self.assertEqual(code, 250)
                        accepted += 1
        self.assertEqual(accepted, sum(1 for v in forms.values() if v == "local"))
        self.t.wait_log(r"delivery \d+: ", count=accepted)
        self.t.wait_queue_empty(timeout=60)
        log = self.t.log()
        self.assertNotRegex(log, r"to remote ", log[-3000:])

    # -- SMTP smuggling over a real socket -----------------------------------
    def test_smuggling_produces_exactly_one_message(self):
        port = self.serve()
        self.t.start()
        smuggled = ("MAIL FROM:<evil@example.net>\r\nRCPT TO:<joe@test.example>\r\nDATA\r\n"
                    "Subject: smuggled\r\n\r\nevil\r\n.\r\n")
        for sep in ("\n.\r\n", "\r\n.\n", "\n.\n", "\r.\r\n", "\r\n.\r", "\r.\r"):
            r = Raw(port)
            r.reply()
            r.send("HELO x\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<joe@test.example>\r\nDATA\r\n")
            got = []
            while len(got) < 4:
                got += r.reply()
            self.assertEqual(got[-1], "354 go ahead\r\n")
            r.send("Subject: outer\r\n\r\nbody" + sep + smuggled + "QUIT\r\n")
            self.assertEqual(r.reply(), ["451 See https://cr.yp.to/docs/smtplf.html.\r\n"], repr(sep))
            self.assertTrue(r.closed())
            r.close()
        # One real message with a proper terminator.
        r = Raw(port)
        r.reply()
        r.send("HELO x\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<joe@test.example>\r\nDATA\r\n"
               "Subject: the only one\r\n\r\nbody\r\n" + smuggled + "QUIT\r\n")
        replies = []
        while True:
            got = r.reply()
            if not got:
                break
            replies += got
        r.close()
        self.assertTrue(replies[4].startswith("250 ok "), replies)
        [m] = self.messages(1)
        self.assertIn("Subject: the only one", m)
        self.assertIn("\nevil\n", m)  # the would-be second message is body text
        self.t.wait_queue_empty()
        self.assertEqual(self.t.maildir_count(self.maildir), 1)

    # -- FAQ 5.2: QMTP ---------------------------------------------------
    def test_qmtp(self):
        port = self.serve("qmail-qmtpd", opts=("-R", "-H"))
        self.t.start()
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        f = s.makefile("rb")
        msg = b"\nSubject: over qmtp\n\nhello\n"
        rcpts = netstring(f"joe@{FQDN}".encode()) + netstring(b"x@elsewhere.example")
        packet = netstring(msg) + netstring(b"s@example.net") + netstring(rcpts)
        s.sendall(packet + packet.replace(b"over qmtp", b"second!!!"))
        r = [read_netstring(f) for _ in range(4)]
        self.assertRegex(r[0].decode(), r"^Kok \d+ qp \d+$")
        self.assertEqual(r[1], b"Dsorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)")
        self.assertRegex(r[2].decode(), r"^Kok ")
        s.close()
        ms = self.messages(2)
        self.assertTrue(any("Subject: over qmtp" in m for m in ms))
        self.assertTrue(any(re.search(r"Received: from unknown \(127\.0\.0\.1\)\n  by [\w.]+ with QMTP; ", m)
                            for m in ms), ms[0])

    # -- qmail-newmrh -------------------------------------------------------
    def test_morercpthosts(self):
        self.t.control("morercpthosts", "More.Example\n.sub.example\n")
        self.t.run("qmail-newmrh")
        self.assertTrue(os.path.exists(self.t.path("control", "morercpthosts.cdb")))
        self.assertFalse(os.path.exists(self.t.path("control", "morercpthosts.tmp")))
        port = self.serve()
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.helo("x")
            s.mail("")
            self.assertEqual(s.rcpt("u@more.example")[0], 250)
            self.assertEqual(s.rcpt("u@a.sub.example")[0], 250)
            self.assertEqual(s.rcpt("u@sub.example")[0], 553)
            self.assertEqual(s.rcpt("u@other.example")[0], 553)

    def test_badmailfrom_and_greeting(self):
        self.t.control("badmailfrom", "@spam.example\nbad@x.example\n")
        self.t.control("smtpgreeting", "mx.test.example hello there\n")
        port = self.serve()
        with smtplib.SMTP(timeout=20) as s:
            self.assertEqual(s.connect("127.0.0.1", port), (220, b"mx.test.example hello there ESMTP"))
            s.helo("x")
            self.assertEqual(s.mail("who@SPAM.example")[0], 250)
            code, text = s.rcpt(f"joe@{FQDN}")
            self.assertEqual((code, text), (553, b"sorry, your envelope sender is in my badmailfrom list (#5.7.1)"))
            s.rset()
            s.mail("ok@x.example")
            self.assertEqual(s.rcpt(f"joe@{FQDN}")[0], 250)

    def test_timeout(self):
        self.t.control("timeoutsmtpd", "1\n")
        port = self.serve()
        r = Raw(port)
        r.reply()
        start = time.monotonic()
        # A trickling client still ends within twice the timeout.
        got = []
        while time.monotonic() - start < 5 * evq.TIME_SCALE:
            try:
                r.send("N")
            except OSError:
                break
            time.sleep(0.3)
            r.s.settimeout(0.01)
            try:
                data = r.s.recv(100)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            got.append(data)
        # Bounded, not timed: without the cap the trickle would go on forever.
        self.assertLess(time.monotonic() - start, 4 * evq.TIME_SCALE)
        self.assertIn(b"451 timeout (#4.4.2)\r\n", b"".join(got))
        r.close()
