"""SMTP AUTH end to end: qmail-smtpd under tcpserver with a checkpassword
on its command line as the smtp-auth patches run it, over STARTTLS and
SMTPS, with real clients (smtplib, swaks). System tree: the system
checkpassword made setuid root for qmaild as the recipe says, and a real
login account set with chpasswd; private tree: checkvpw with a vpasswd box."""
import os
import smtplib
import socket
import ssl
import subprocess
import time

import evq
from test_pop3 import PASSWORD, Pop3Base
from test_tls import client_context, install_server_cert

FQDN = evq.FQDN


class AuthTest(Pop3Base):

    def setUp(self):
        super().setUp()
        self.cert, self.ca = install_server_cert(self.t)
        self.home = self.mail_user("amy")
        self.user = self.login("amy")
        self.maildir = os.path.join(self.home, "Maildir")
        if self.t.system:
            # doc/checkpassword.8: setuid root, run only by qmaild's group.
            cp = os.path.join(self.t.bin, "checkpassword")
            os.chown(cp, 0, self.t.ids("qmaild", "nofiles")[1])
            os.chmod(cp, 0o4710)
            self.checker = cp
        else:
            self.checker = os.path.join(self.t.bin, "checkvpw")

    def serve(self, env=None, hostname=True):
        """qmail-smtpd [hostname] checkpassword true, as qmaild in a system tree."""
        args = ([FQDN] if hostname else []) + [self.checker, "/bin/true"]
        env = {"AUTHFAILDELAY": "0", **(env or {})}
        return self.t.serve("qmail-smtpd", *args, opts=("-R", "-H", *self.t.daemon_opts()), env=env)

    def tls_session(self, port):
        s = smtplib.SMTP("127.0.0.1", port, timeout=20)
        s.ehlo("client.example")
        s.starttls(context=client_context(self.ca))
        s.ehlo("client.example")
        return s

    def messages(self, count):
        return [m.as_bytes().decode("latin-1") for m in self.t.wait_maildir(self.maildir, count)]

    def test_login_over_starttls_allows_relaying(self):
        svc, port = self.serve()
        self.t.start()
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.ehlo("client.example")
            # FORCETLS is on by default: no AUTH in plaintext.
            self.assertFalse(s.has_extn("auth"))
            self.assertEqual(s.docmd("AUTH", "LOGIN")[0], 538)
            s.starttls(context=client_context(self.ca))
            s.ehlo("client.example")
            self.assertEqual(s.esmtp_features["auth"].split(), ["LOGIN", "PLAIN"])
            # Before AUTH, a foreign domain is refused; after it, relayed.
            s.mail("amy@example.net")
            self.assertEqual(s.rcpt("x@elsewhere.example")[0], 553)
            s.rset()
            s.user, s.password = self.user, PASSWORD
            code, _ = s.auth("LOGIN", s.auth_login)
            self.assertEqual(code, 235)
            s.mail("amy@example.net")
            self.assertEqual(s.rcpt("x@elsewhere.example")[0], 250)
            s.rset()
            self.assertEqual(s.docmd("AUTH", "PLAIN")[0], 503)
            s.sendmail("amy@example.net", [f"amy@{FQDN}"], b"Subject: authenticated\r\n\r\nhi\r\n")
        [m] = self.messages(1)
        self.assertRegex(m, r"Received: from unknown \(HELO client\.example\) \(" + self.user.replace(".", r"\.") +
                         r"@127\.0\.0\.1\)\n  by [\w.]+ with ESMTPSA \([A-Z0-9_-]+ encrypted, authenticated\);\s")
        svc.wait_log(r"qmail-smtpd 127\.0\.0\.1: auth: auth-success type=login user=<" + self.user + ">")

    def test_swaks_plain_and_failures(self):
        svc, port = self.serve(hostname=False)
        self.t.start()
        base = ["swaks", "--server", "127.0.0.1", "--port", str(port), "--tls", "--tls-verify",
                "--tls-ca-path", self.ca,
                "--from", "amy@example.net", "--to", f"amy@{FQDN}", "--auth", "PLAIN",
                "--auth-user", self.user, "--header", "Subject: swaks auth", "--body", "b"]
        p = subprocess.run(base + ["--auth-password", PASSWORD], capture_output=True, timeout=60)
        out = p.stdout.decode() + p.stderr.decode()
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("235 ok, go ahead (#2.0.0)", out)
        [m] = self.messages(1)
        self.assertIn("Subject: swaks auth", m)
        p = subprocess.run(base + ["--auth-password", "wrong"], capture_output=True, timeout=60)
        out = p.stdout.decode() + p.stderr.decode()
        self.assertNotEqual(p.returncode, 0, out)
        self.assertIn("535 authentication failed (#5.7.1)", out)
        svc.wait_log(r"auth: auth-failed type=plain user=<" + self.user + ">")
        self.assertNotIn("wrong", svc.log())

    def test_failures_are_delayed_then_the_session_ends(self):
        _, port = self.serve(env={"AUTHFAILDELAY": "1"})
        with self.tls_session(port) as s:
            started = time.monotonic()
            s.user, s.password = self.user, "wrong"
            with self.assertRaises(smtplib.SMTPAuthenticationError):
                s.auth("PLAIN", s.auth_plain)
            # The reply waited (at least the delay; no upper bound is asserted).
            self.assertGreaterEqual(time.monotonic() - started, 0.9)
            self.assertEqual(s.docmd("AUTH", "PLAIN =")[0], 501)
            for _ in range(2):
                code, text = s.docmd("AUTH", "PLAIN " + _plain(self.user, "wrong"))
            self.assertEqual(code, 535)
            code, text = s.getreply()
            self.assertEqual((code, text), (421, b"too many failed authentications, closing connection (#4.7.0)"))

    def test_the_checkpassword_gets_what_the_patches_give_it(self):
        # A checkpassword that records its fd 3 and its argv, then accepts.
        rec = os.path.join(self.t.base, "rec")
        os.makedirs(rec)
        os.chmod(rec, 0o1777)
        script = os.path.join(self.t.base, "recordpw")
        with open(script, "w") as f:
            f.write("#!/usr/bin/python3\nimport os, sys\n"
                    f"out = os.path.join({rec!r}, str(len(os.listdir({rec!r}))))\n"
                    "data = b''\nwhile True:\n    b = os.read(3, 4096)\n    if not b: break\n    data += b\n"
                    "open(out, 'wb').write(repr((data, sys.argv[1:], os.read(0, 10))).encode())\n")
        os.chmod(script, 0o755)
        self.checker = script
        _, port = self.serve(env={"SMTPAUTH": "+cram"})
        with self.tls_session(port) as s:
            self.assertEqual(s.esmtp_features["auth"].split(), ["LOGIN", "PLAIN", "CRAM-MD5"])
            s.user, s.password = "amy", "pass word"
            self.assertEqual(s.auth("PLAIN", s.auth_plain)[0], 235)
        with self.tls_session(port) as s:
            s.user, s.password = "amy", "pass word"
            self.assertEqual(s.auth("LOGIN", s.auth_login, initial_response_ok=False)[0], 235)
        with self.tls_session(port) as s:
            s.user, s.password = "amy", "pass word"
            code, challenge = s.docmd("AUTH", "CRAM-MD5")
            self.assertEqual(code, 334)
            import base64
            chal = base64.b64decode(challenge)
            # "<pid.time@host>", the host from the command line.
            self.assertRegex(chal.decode(), r"^<\d+\.\d+@" + FQDN.replace(".", r"\.") + ">$")
            code, _ = s.docmd(base64.b64encode(b"amy 0123456789abcdef0123456789abcdef").decode())
            self.assertEqual(code, 235)
        got = [eval(open(os.path.join(rec, str(i))).read()) for i in range(3)]
        self.assertEqual(got[0], (b"amy\0pass word\0\0", ["/bin/true"], b""))
        self.assertEqual(got[1], (b"amy\0pass word\0\0", ["/bin/true"], b""))
        self.assertEqual(got[2], (b"amy\0" + b"0123456789abcdef0123456789abcdef\0" + chal + b"\0",
                                  ["/bin/true"], b""))

    def test_submission_requires_auth(self):
        # The submission service of doc/recipes.md: SMTPAUTH="!".
        _, port = self.serve(env={"SMTPAUTH": "!"})
        self.t.start()
        with self.tls_session(port) as s:
            self.assertEqual(s.docmd("MAIL", "FROM:<amy@example.net>"),
                             (530, b"Authorization required (#5.7.1)"))
            s.login(self.user, PASSWORD)
            s.sendmail("amy@example.net", [f"amy@{FQDN}"], b"Subject: submitted\r\n\r\nx\r\n")
        [m] = self.messages(1)
        self.assertIn("Subject: submitted", m)

    def test_smtps_and_plaintext_when_allowed(self):
        _, port = self.serve(env={"SMTPS": "1"})
        with smtplib.SMTP_SSL("127.0.0.1", port, timeout=20, context=client_context(self.ca)) as s:
            s.ehlo("client.example")
            self.assertIn("PLAIN", s.esmtp_features["auth"])
            self.assertEqual(s.login(self.user, PASSWORD)[0], 235)
        # FORCETLS=0 (a rule for a trusted network): AUTH without TLS, and
        # the Received line says ESMTPA. SMTPAUTH=- turns AUTH off.
        _, port = self.serve(env={"FORCETLS": "0"})
        self.t.start()
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.ehlo("client.example")
            self.assertEqual(s.login(self.user, PASSWORD)[0], 235)
            s.sendmail("amy@example.net", [f"amy@{FQDN}"], b"Subject: plain auth\r\n\r\nx\r\n")
        [m] = self.messages(1)
        self.assertRegex(m, r"by [\w.]+ with ESMTPA;")
        _, port = self.serve(env={"SMTPAUTH": "-", "FORCETLS": "0"})
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("auth"))
            self.assertEqual(s.docmd("AUTH", "LOGIN"), (503, b"auth not available (#5.3.3)"))


def _plain(user, password):
    import base64
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()
