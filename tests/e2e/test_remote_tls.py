"""qmail-remote's TLS, smarthost AUTH and SIZE end to end, against aiosmtpd
on loopback with names served by dnsmasq: opportunistic STARTTLS, the
qmail-tls patch's per-host files (control/tlshosts/<host>.pem,
tlshosts/exhaustivelist, notlshosts/<host>), sagredo's smtproutes
credentials (relay|user|password) and the server's SIZE limit. Most tests
run bin/qmail-remote directly with the message in a regular file on fd 0
and check its report bytes; a few go through qmail-send and its log."""
import os
import re
import ssl
import subprocess
import threading

import evq
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from test_remote import Dns
from test_tls import make_cert

SINK_IP = "127.0.0.5"        # not one of ours, so not "ipme"
MX = "mx.tls.example"        # the MX (and relay) name the TLS files are keyed by
SENDER = "alice@example.org"


class TlsRecorder:
    """Records messages with whether they came over TLS, MAIL's options and
    the authenticated user."""

    def __init__(self):
        self.messages = []   # dicts: rcpts, content, tls, mail_options, login
        self.mails = 0
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            self.mails += 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        tls = bool(session.ssl) or server.transport.get_extra_info("sslcontext") is not None
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        with self.lock:
            self.messages.append({"rcpts": list(envelope.rcpt_tos), "content": envelope.content, "tls": tls,
                                  "mail_options": list(envelope.mail_options), "login": login})
        return "250 accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"joe" and auth_data.password == b"s3cr:t|x"
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


def server_context(pem):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem)
    return ctx


def cert_only(pem, out):
    """The certificate part of a self-signed cert+key PEM: a CA file trusting it."""
    with open(pem) as f, open(out, "w") as o:
        o.write(f.read().split("-----BEGIN PRIVATE KEY-----")[0])


def reports(out):
    """qmail-remote's NUL-terminated reports as a list of str."""
    assert out.endswith(b"\0"), out
    return [r.decode("latin-1") for r in out[:-1].split(b"\0")]


class RemoteTlsTest(evq.TreeTest):
    def setUp(self):
        super().setUp()
        self.alice = self.t.add_user("alice")
        self.dns = Dns(self.t.base, ["--mx-host=mxd.example," + MX + ",10", f"--host-record={MX},{SINK_IP}"])
        self.t.services.append(self.dns.svc)
        # Self-signed certificates: each is its own authority.
        self.good = os.path.join(self.t.base, "good.pem")
        self.other = os.path.join(self.t.base, "other.pem")      # same name, another key
        self.wrongname = os.path.join(self.t.base, "wrongname.pem")
        make_cert(self.good, MX)
        make_cert(self.other, MX)
        make_cert(self.wrongname, "elsewhere.example")
        os.makedirs(self.t.path("control", "tlshosts"), exist_ok=True)
        os.makedirs(self.t.path("control", "notlshosts"), exist_ok=True)
        self.port = None

    def sink(self, pem=None, implicit=False, port=None, ctx=None, **smtp_kwargs):
        self.rec = TlsRecorder()
        self.port = port or evq.free_port(SINK_IP)
        kw = dict(smtp_kwargs)
        if pem and not ctx:
            ctx = server_context(pem)
        if ctx and implicit:
            kw["ssl_context"] = ctx
        elif ctx:
            kw["tls_context"] = ctx
            kw["require_starttls"] = False
        c = Controller(self.rec, hostname=SINK_IP, port=self.port, server_hostname=MX, **kw)
        c.start()
        self.addCleanup(c.stop)
        return self.rec

    def trust(self, pem, name=MX):
        cert_only(pem, self.t.path("control", "tlshosts", name + ".pem"))

    def remote(self, host, rcpt, body="Subject: tls\n\nhello over the wire\n"):
        msg = os.path.join(self.t.base, "msg")
        with open(msg, "w") as f:
            f.write(body)
        with open(msg, "rb") as stdin:
            p = subprocess.run([os.path.join(self.t.bin, "qmail-remote"), host, SENDER, rcpt], stdin=stdin,
                               env=self.t.env(SMTPPORT=str(self.port), DNSSERVERS=self.dns.servers()),
                               capture_output=True, timeout=60 * evq.TIME_SCALE)
        self.assertEqual(p.returncode, 0, p.stderr)
        return reports(p.stdout)

    def start_queue(self, domain):
        """qmail-send with `domain` routed to the sink by address and port in
        smtproutes (a system tree's rc takes no environment): the TLS files
        are then keyed by the address."""
        self.t.control("smtproutes", f"{domain}:{SINK_IP}:{self.port}\n")
        self.t.start()

    def mail(self, to, body="hello\n"):
        self.t.inject(f"From: {SENDER}\nTo: {to}\nSubject: x\n\n{body}", "-f", f"alice@{self.t.fqdn}")

    # -- STARTTLS policy ----------------------------------------------------
    def test_opportunistic_starttls(self):
        rec = self.sink(self.good)
        r = self.remote("mxd.example", "bob@mxd.example")
        self.assertEqual(r[0], "r")
        self.assertTrue(r[1].startswith(f"K{SINK_IP} accepted message.\nRemote host said: 250 accepted"), r)
        (m,) = rec.messages
        self.assertTrue(m["tls"])
        self.assertEqual(m["rcpts"], ["bob@mxd.example"])
        self.assertIn(b"hello over the wire", m["content"])

    def test_opportunistic_ignores_a_bad_certificate(self):
        # Without tlshosts/<host>.pem nothing is verified (the patch's default).
        rec = self.sink(self.wrongname)
        r = self.remote("mxd.example", "bob@mxd.example")
        self.assertTrue(r[-1].startswith("K"), r)
        self.assertTrue(rec.messages[0]["tls"])

    def test_plaintext_server_gets_plaintext(self):
        rec = self.sink()
        r = self.remote("mxd.example", "bob@mxd.example")
        self.assertEqual(r, ["r", f"K{SINK_IP} accepted message.\nRemote host said: 250 accepted\n"])
        self.assertFalse(rec.messages[0]["tls"])

    def test_tlshosts_pem_verifies(self):
        self.trust(self.good)
        rec = self.sink(self.good)
        r = self.remote("mxd.example", "bob@mxd.example")
        self.assertTrue(r[-1].startswith(f"K{SINK_IP} accepted message."), r)
        self.assertTrue(rec.messages[0]["tls"])

    def test_tlshosts_for_an_address_checks_the_address(self):
        # A relay given by address: tlshosts/<address>.pem, and the
        # certificate must name the address (subjectAltName IP).
        ipcert = os.path.join(self.t.base, "ip.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "2", "-subj", f"/CN={SINK_IP}", "-addext", f"subjectAltName=IP:{SINK_IP}",
                        "-keyout", ipcert + ".key", "-out", ipcert], check=True, capture_output=True, timeout=60)
        with open(ipcert + ".key") as k, open(ipcert, "a") as c:
            c.write(k.read())
        self.trust(ipcert, name=SINK_IP)
        rec = self.sink(ipcert)
        self.t.control("smtproutes", f"mxd.example:{SINK_IP}\n")
        r = self.remote("mxd.example", "bob@mxd.example")
        self.assertTrue(r[-1].startswith(f"K{SINK_IP} accepted message."), r)
        self.assertTrue(rec.messages[0]["tls"])
        # The same authority file but a certificate naming 127.0.0.1 only.
        self.trust(self.good, name=SINK_IP)
        self.sink(self.good)
        r = self.remote("mxd.example", "bob@mxd.example")
        self.assertRegex(r[-1], r"^ZTLS unable to verify server with tlshosts/" + re.escape(SINK_IP) + r"\.pem: ")

    def test_tlshosts_wrong_ca_defers_and_stays_queued(self):
        self.trust(self.other, name=SINK_IP)
        rec = self.sink(self.good)
        self.start_queue("mxd.example")
        self.mail("bob@mxd.example")
        self.t.wait_log(r"delivery \d+: deferral: TLS_unable_to_verify_server_with_tlshosts/"
                        + re.escape(SINK_IP) + r"\.pem:_", timeout=30)
        self.assertEqual(rec.messages, [])
        self.assertEqual(rec.mails, 0)
        self.assertIn(b"bob@mxd.example", self.t.run("qmail-qread").stdout)
        self.assertNotIn("failure:", self.t.log())

    def test_tlshosts_name_mismatch_defers(self):
        # The authority is right, the certificate names another host.
        cert_only(self.wrongname, self.t.path("control", "tlshosts", MX + ".pem"))
        rec = self.sink(self.wrongname)
        r = self.remote("mxd.example", "bob@mxd.example")
        self.assertRegex(r[-1], r"^ZTLS unable to verify server with tlshosts/" + re.escape(MX) + r"\.pem: .*\n$")
        self.assertEqual(rec.mails, 0)

    def test_tlshosts_server_without_starttls_defers(self):
        self.trust(self.good)
        rec = self.sink()
        r = self.remote("mxd.example", "bob@mxd.example")
        self.assertEqual(r, [f"ZNo TLS achieved while tlshosts/{MX}.pem exists. (#4.7.0)\n"])
        self.assertEqual(rec.mails, 0)

    def test_handshake_failure_defers(self):
        # No cipher in common: TLS 1.2 only on the server, with one suite the
        # client's control/tlsclientciphers leaves out. Never plaintext after.
        self.t.control("tlsclientciphers", "ECDHE-ECDSA-CHACHA20-POLY1305\n")
        ctx = server_context(self.good)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
        rec = self.sink(ctx=ctx)
        r = self.remote("mxd.example", "bob@mxd.example")
        self.assertEqual(len(r), 1, r)
        self.assertRegex(r[0], r"^ZTLS connect failed: .+\. \(#4\.7\.0\)\n$")
        self.assertEqual(rec.mails, 0)

    def test_notlshosts_and_exhaustivelist_mean_plaintext(self):
        rec = self.sink(self.good)
        with open(self.t.path("control", "notlshosts", MX), "w"):
            pass
        self.assertTrue(self.remote("mxd.example", "bob@mxd.example")[-1].startswith("K"))
        self.assertFalse(rec.messages[-1]["tls"])
        os.unlink(self.t.path("control", "notlshosts", MX))
        with open(self.t.path("control", "tlshosts", "exhaustivelist"), "w"):
            pass
        self.assertTrue(self.remote("mxd.example", "bob@mxd.example")[-1].startswith("K"))
        self.assertFalse(rec.messages[-1]["tls"])
        # ...but a host with its .pem in the exhaustive list gets verified TLS.
        self.trust(self.good)
        self.assertTrue(self.remote("mxd.example", "bob@mxd.example")[-1].startswith("K"))
        self.assertTrue(rec.messages[-1]["tls"])

    def test_smtps_port_465(self):
        try:
            rec = self.sink(self.good, implicit=True, port=465)
        except (PermissionError, OSError, RuntimeError) as e:
            self.skipTest(f"cannot listen on port 465 here: {e}")
        r = self.remote("mxd.example", "bob@mxd.example")
        self.assertTrue(r[-1].startswith(f"K{SINK_IP} accepted message."), r)
        self.assertTrue(rec.messages[0]["tls"])

    # -- smarthost AUTH -----------------------------------------------------
    def test_smarthost_auth(self):
        rec = self.sink(self.good, authenticator=authenticator, auth_require_tls=True)
        self.t.control("smtproutes", f"auth.example:{MX}|joe|s3cr:t|x\n")
        r = self.remote("auth.example", "bob@auth.example")
        self.assertTrue(r[-1].startswith(f"K{SINK_IP} accepted message."), r)
        self.assertEqual(rec.messages[0]["login"], "joe")
        self.assertTrue(rec.messages[0]["tls"])

    def test_smarthost_wrong_password_defers(self):
        rec = self.sink(self.good, authenticator=authenticator, auth_require_tls=True)
        self.t.control("smtproutes", f"auth.example:{MX}|joe|wrong\n")
        r = self.remote("auth.example", "bob@auth.example")
        self.assertRegex(r[-1], r"^ZAuthentication with " + re.escape(MX) + r" failed\. \(#4\.7\.0\)\n"
                                r"Remote host said: 535 ")
        self.assertEqual(rec.mails, 0)

    def test_smarthost_auth_needs_tls(self):
        rec = self.sink(None, authenticator=authenticator, auth_require_tls=False)
        self.t.control("smtproutes", f"auth.example:{MX}|joe|s3cr:t|x\n")
        r = self.remote("auth.example", "bob@auth.example")
        self.assertEqual(r, [f"ZAuthentication not sent: no TLS with {MX}. (#4.7.0)\n"])
        self.assertEqual(rec.mails, 0)

    # -- SIZE ---------------------------------------------------------------
    def test_size_announced_and_sent(self):
        rec = self.sink(data_size_limit=100000)
        body = "Subject: s\n\n" + "x" * 500 + "\n"
        self.assertTrue(self.remote("mxd.example", "bob@mxd.example", body)[-1].startswith("K"))
        self.assertEqual(rec.messages[0]["mail_options"], [f"SIZE={len(body)}"])

    def test_size_over_limit_bounces(self):
        rec = self.sink(data_size_limit=300)
        self.start_queue("mxd.example")
        self.mail("bob@mxd.example", body="y" * 2000 + "\n")
        self.t.wait_log(r"delivery \d+: failure: Sorry,_the_message_is_larger_than_" + re.escape(SINK_IP)
                        + r"'s_limit_of_300_bytes\._\(#5\.3\.4\)", timeout=30)
        msgs = self.t.wait_maildir(os.path.join(self.alice, "Maildir"), 1, timeout=30)
        self.assertIn("limit of 300 bytes", msgs[0].as_string())
        self.assertEqual(rec.mails, 0)


if __name__ == "__main__":
    import unittest
    unittest.main()
