"""TLS end to end: qmail-smtpd's STARTTLS and SMTPS under tcpserver as the
qmail-tls patch sets them up (control/servercert.pem, $DISABLETLS, $SMTPS,
control/tlsserverciphers), with certificates made by openssl at test time
and real clients: smtplib, Python's ssl on a raw socket, openssl s_client
and swaks."""
import os
import re
import smtplib
import socket
import ssl
import subprocess

import evq

FQDN = evq.FQDN


def make_cert(path, name):
    """A self-signed P-256 certificate for `name`, with its key, in one PEM file."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name},IP:127.0.0.1",
                    "-keyout", path + ".key", "-out", path + ".crt"],
                   check=True, capture_output=True, timeout=60)
    with open(path, "wb") as out:
        for part in (".crt", ".key"):
            with open(path + part, "rb") as f:
                out.write(f.read())
            os.unlink(path + part)


def install_server_cert(t, owner=("qmaild", "qmail"), mode=0o640):
    """control/servercert.pem for the tree's FQDN (by default readable by
    qmail-smtpd's uid and no one else, as the qmail-tls patch asks; `owner`
    None keeps the creator's) and a CA file trusting it; returns (cert, ca)."""
    cert = t.path("control", "servercert.pem")
    make_cert(cert, FQDN)
    if owner:
        t.chown(cert, *owner)
    os.chmod(cert, mode)
    ca = os.path.join(t.base, "ca.pem")
    with open(cert) as f, open(ca, "w") as out:
        out.write(f.read().split("-----BEGIN PRIVATE KEY-----")[0])
    return cert, ca


def client_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = True
    return ctx


class TlsTest(evq.TreeTest):

    def setUp(self):
        super().setUp()
        self.home = self.t.add_user("joe")
        self.maildir = os.path.join(self.home, "Maildir")
        self.cert, self.ca = install_server_cert(self.t)

    def serve(self, env=None):
        tcpserver = None if os.path.exists(os.path.join(self.t.bin, "tcpserver")) else "/usr/bin/tcpserver"
        return self.t.serve("qmail-smtpd", opts=("-R", "-H", *self.t.daemon_opts()), env=env,
                            tcpserver=tcpserver)

    def messages(self, count):
        return [m.as_bytes().decode("latin-1") for m in self.t.wait_maildir(self.maildir, count)]

    def test_starttls_with_smtplib(self):
        _, port = self.serve()
        self.t.start()
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.ehlo("client.example")
            self.assertTrue(s.has_extn("starttls"))
            self.assertEqual(s.starttls(context=client_context(self.ca))[0], 220)
            # smtplib forgets the old EHLO; the server must too, and offers
            # STARTTLS no more.
            code, text = s.ehlo("client.example")
            self.assertEqual(code, 250)
            self.assertFalse(s.has_extn("starttls"))
            self.assertIn(s.sock.version(), ("TLSv1.2", "TLSv1.3"))
            self.assertEqual(s.docmd("STARTTLS")[0], 502)
            s.sendmail("sender@example.net", [f"joe@{FQDN}"], b"Subject: over tls\r\n\r\nsecret\r\n")
        [m] = self.messages(1)
        self.assertIn("Subject: over tls\n", m)
        self.assertRegex(m, r"Received: from unknown \(HELO client\.example\) \(127\.0\.0\.1\)\n"
                            r"  by [\w.]+ with ESMTPS \([A-Z0-9_-]+ encrypted\);\s")

    def test_pipelined_commands_after_starttls_are_dropped(self):
        _, port = self.serve()
        self.t.start()
        raw = socket.create_connection(("127.0.0.1", port), timeout=20)
        f = raw.makefile("rb")
        self.assertTrue(f.readline().startswith(b"220 "))
        raw.sendall(b"EHLO x\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        # Everything after STARTTLS in the same packet is the attacker's: a
        # man in the middle cannot have it run inside the TLS session.
        raw.sendall(b"STARTTLS\r\nRSET\r\nMAIL FROM:<evil@example.net>\r\n")
        self.assertEqual(f.readline(), b"220 ready for tls\r\n")
        tls = client_context(self.ca).wrap_socket(raw, server_hostname=FQDN)
        tf = tls.makefile("rb")
        tls.sendall(b"RCPT TO:<joe@" + FQDN.encode() + b">\r\n")
        # Had MAIL FROM run, this RCPT would be accepted; had RSET run, a
        # "250 flushed" would come first.
        self.assertEqual(tf.readline(), b"503 MAIL first (#5.5.1)\r\n")
        tls.sendall(b"QUIT\r\n")
        self.assertTrue(tf.readline().startswith(b"221 "))
        tls.close()

    def test_disabletls_and_starttls_argument(self):
        _, port = self.serve(env={"DISABLETLS": "1"})
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.ehlo("x")
            self.assertFalse(s.has_extn("starttls"))
            self.assertEqual(s.docmd("STARTTLS")[0], 502)
        _, port = self.serve()
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.ehlo("x")
            self.assertEqual(s.docmd("STARTTLS", "now"),
                             (501, b"Syntax error (no parameters allowed) (#5.5.4)"))
        self.t.remove_control("servercert.pem")
        _, port = self.serve()
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.ehlo("x")
            self.assertFalse(s.has_extn("starttls"))

    def test_openssl_s_client_and_swaks(self):
        _, port = self.serve()
        self.t.start()
        p = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{port}",
                            "-CAfile", self.ca, "-verify_hostname", FQDN, "-verify_return_error",
                            "-brief"], input=b"QUIT\r\n", capture_output=True, timeout=60)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 0, err)
        self.assertRegex(err, r"Protocol version: TLSv1\.[23]")
        self.assertIn("Verification: OK", err)
        p = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--tls",
                            "--to", f"joe@{FQDN}", "--from", "s@example.net",
                            "--header", "Subject: swaks tls", "--body", "b"], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
        [m] = self.messages(1)
        self.assertIn("Subject: swaks tls", m)
        self.assertRegex(m, r"with ESMTPS \([A-Z0-9_-]+ encrypted\);\s")

    def test_old_protocols_are_refused_and_logged(self):
        svc, port = self.serve()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            ctx.set_ciphers("DEFAULT@SECLEVEL=0")
        except ssl.SSLError:
            pass
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.ehlo("x")
            with self.assertRaises((ssl.SSLError, OSError, smtplib.SMTPServerDisconnected)):
                s.starttls(context=ctx)
        evq.wait_for(lambda: "tls: handshake failed" in svc.log(), 20, what="the handshake failure in the log")
        self.assertRegex(svc.log(), r"qmail-smtpd 127\.0\.0\.1: tls: handshake failed: ")

    def test_smtps_and_a_cipher_list(self):
        self.t.control("tlsserverciphers", "ECDHE-ECDSA-AES256-GCM-SHA384\n")
        _, port = self.serve(env={"SMTPS": "1"})
        self.t.start()
        ctx = client_context(self.ca)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with smtplib.SMTP_SSL("127.0.0.1", port, timeout=20, context=ctx) as s:
            self.assertEqual(s.sock.cipher()[0], "ECDHE-ECDSA-AES256-GCM-SHA384")
            code, text = s.ehlo("client.example")
            self.assertFalse(s.has_extn("starttls"))
            s.sendmail("sender@example.net", [f"joe@{FQDN}"], b"Subject: smtps\r\n\r\nx\r\n")
        [m] = self.messages(1)
        self.assertRegex(m, r"with ESMTPS \(ECDHE-ECDSA-AES256-GCM-SHA384 encrypted\);\s")
