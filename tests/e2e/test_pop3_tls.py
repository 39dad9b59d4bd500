"""POP3 over TLS end to end: qmail-popup's STLS (RFC 2595) and POP3S
(RFC 8314) with control/servercert.pem, $POP3S and $FORCETLS, read by
Python's poplib and openssl s_client. The relay that holds the TLS session
runs as qmaild, so checkpassword and qmail-pop3d see plaintext only."""
import os
import poplib
import ssl
import subprocess

import evq
from evq import wait_for
from test_pop3 import FQDN, PASSWORD, Pop3Base, files, proc_ids, settle
from test_tls import install_server_cert


class Pop3TlsTest(Pop3Base):

    def setUp(self):
        super().setUp()
        self.home = self.mail_user("alice")
        self.md = os.path.join(self.home, "Maildir")
        # qmail-popup reads it as root, before the relay drops to qmaild.
        self.cert, self.ca = install_server_cert(self.t, owner=None, mode=0o600)
        self.ctx = ssl.create_default_context(cafile=self.ca)

    def mail(self, n):
        self.t.start()
        self.deliver("alice", n)
        self.t.wait_maildir(self.md, n)
        settle(self.md)

    def test_capa_stls_login_and_delete(self):
        self.mail(2)
        self.serve_pop()
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        self.assertIn("STLS", p.capa())
        # FORCETLS by default: USER only after STLS.
        self.assertNotIn("USER", p.capa())
        p.stls(context=self.ctx)
        self.assertIn("USER", p.capa())
        self.assertIn(p.sock.version(), ("TLSv1.2", "TLSv1.3"))
        self.assertNotIn("STLS", p.capa())
        with self.assertRaises(poplib.error_proto):
            p._shortcmd("STLS")
        p.user(self.login("alice"))
        p.pass_(PASSWORD)
        self.assertEqual(p.stat()[0], 2)
        # The TLS session lives in a relay (a qmail-popup) with qmaild's ids.
        popup = os.path.join(self.t.bin, "qmail-popup").encode()
        relays = [pid for pid, a in self.t.processes().items() if a[0] == popup]
        self.assertIn(self.t.ids("qmaild", "nofiles"), [proc_ids(pid) for pid in relays])
        lines = p.retr(1)[1]
        self.assertTrue(any(l.startswith(b"Subject: msg") for l in lines), lines)
        p.dele(1)
        self.assertTrue(p.quit().startswith(b"+OK"))
        wait_for(lambda: len(files(self.md, "new")) + len(files(self.md, "cur")) == 1, 10,
                 what="one message left after QUIT")

    def test_pop3s_and_s_client(self):
        self.mail(1)
        self.serve_pop(extra_env={"POP3S": "1"})
        p = poplib.POP3_SSL("127.0.0.1", self.port, timeout=20, context=self.ctx)
        self.assertNotIn("STLS", p.capa())
        p.user(self.login("alice"))
        p.pass_(PASSWORD)
        self.assertEqual(p.stat()[0], 1)
        p.quit()
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.port}", "-CAfile", self.ca,
                            "-verify_hostname", FQDN, "-verify_return_error", "-brief", "-quiet"],
                           input=b"CAPA\r\nQUIT\r\n", capture_output=True, timeout=60)
        self.assertIn(b"+OK", r.stdout)
        self.assertIn(b"\r\nUSER\r\n", r.stdout)

    def test_pipelined_after_stls_is_dropped_and_forcetls(self):
        self.serve_pop()
        s, f = self.raw()
        self.assertTrue(f.readline().startswith(b"+OK"))
        s.sendall(b"CAPA\r\n")
        capa = []
        while True:
            line = f.readline()
            capa.append(line)
            if line == b".\r\n":
                break
        self.assertIn(b"STLS\r\n", capa)
        self.assertNotIn(b"USER\r\n", capa)
        s.sendall(b"USER x\r\n")
        self.assertTrue(f.readline().startswith(b"-ERR"))
        # Whatever follows STLS in the same packet is a man in the middle's.
        s.sendall(b"STLS\r\nUSER " + self.login("alice").encode() + b"\r\n")
        self.assertTrue(f.readline().startswith(b"+OK"))
        tls = self.ctx.wrap_socket(s, server_hostname=FQDN)
        tf = tls.makefile("rb")
        # Had the pipelined USER run, this PASS would log in.
        tls.sendall(b"PASS " + PASSWORD.encode() + b"\r\n")
        self.assertTrue(tf.readline().startswith(b"-ERR"))
        tls.close()

    def test_forcetls_0_allows_plaintext_and_mpop_over_tls(self):
        self.mail(2)
        self.serve_pop(extra_env={"FORCETLS": "0"})
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        self.assertIn("USER", p.capa())
        p.user(self.login("alice"))
        p.pass_(PASSWORD)
        self.assertEqual(p.stat()[0], 2)
        p.quit()
        # mpop, a client no one here wrote, over STLS with the test CA, keeping the mail.
        self.serve_pop()
        rc = os.path.join(self.t.base, "mpoprc")
        with open(rc, "w") as f:
            f.write(f"account default\nhost 127.0.0.1\nport {self.port}\nuser {self.login('alice')}\n"
                    f"password {PASSWORD}\ntls on\ntls_starttls on\ntls_trust_file {self.ca}\n"
                    f"tls_host_override {FQDN}\nauth user\nkeep on\nonly_new off\n"
                    f"uidls_file {self.t.base}/mpop-uidls\ndelivery mbox {self.t.base}/mpop.mbox\n")
        os.chmod(rc, 0o600)
        r = subprocess.run(["mpop", "-C", rc, "-q"], capture_output=True, timeout=60,
                           env={"HOME": self.t.base, "PATH": "/usr/bin:/bin"})
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        with open(os.path.join(self.t.base, "mpop.mbox"), "rb") as f:
            self.assertEqual(f.read().count(b"\nSubject: msg"), 2)

    def test_no_certificate_no_stls_and_handshake_failure_logged(self):
        self.serve_pop()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            ctx.set_ciphers("DEFAULT@SECLEVEL=0")
        except ssl.SSLError:
            pass
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        with self.assertRaises((ssl.SSLError, OSError, poplib.error_proto)):
            p.stls(context=ctx)
        svc = self.svc
        wait_for(lambda: "tls: handshake failed" in svc.log(), 20, what="the handshake failure in the log")
        os.unlink(self.cert)
        self.serve_pop()
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        self.assertNotIn("STLS", p.capa())
        with self.assertRaises(poplib.error_proto):
            p._shortcmd("STLS")
        p.quit()


if __name__ == "__main__":
    import unittest
    unittest.main()
