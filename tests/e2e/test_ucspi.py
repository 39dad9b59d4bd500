"""End-to-end tests of evqmail's ucspi-tcp tools: tcpserver (environment,
-c limit, -x rules, -v log lines, IPv6), tcprules/tcprulescheck (cdb bytes and
decisions interchangeable with Debian's ucspi-tcp both ways), tcpclient and
tcp-env. Loopback only, ports from evq.free_port()."""
import os
import re
import socket
import subprocess
import threading
import time

import evq

DEB_TCPSERVER = "/usr/bin/tcpserver"
DEB_TCPRULES = "/usr/bin/tcprules"
DEB_CHECK = "/usr/bin/tcprulescheck"


def have_ipv6():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def read_env(path):
    with open(path) as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)


def talk(port, data=b"", host="127.0.0.1", timeout=10):
    """Connects, sends data, half-closes and returns (everything read, local port)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        me = s.getsockname()[1]
        if data:
            s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return out, me
            out += chunk


class IdentServer:
    """An RFC 1413 server on 127.0.0.1, a high port: answers every query for
    the connection asked about with USERID `user`, and records the queries."""

    def __init__(self, user="ann"):
        self.user = user
        self.queries = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                q = c.makefile("rb").readline().decode()
                self.queries.append(q)
                rport, lport = [int(x) for x in q.split(",")]
                c.sendall(b"%d , %d : USERID : UNIX : %s\r\n" % (rport, lport, self.user.encode()))

    def close(self):
        self.sock.close()


class UcspiTest(evq.TreeTest):

    def setUp(self):
        super().setUp()
        self.dir = os.path.join(self.t.base, "work")
        os.makedirs(self.dir)

    def envdump(self, name="env"):
        return ("sh", "-c", f"env > {self.dir}/{name}.tmp && mv {self.dir}/{name}.tmp {self.dir}/{name}")

    def wait_env(self, name="env"):
        p = os.path.join(self.dir, name)
        evq.wait_for(lambda: os.path.exists(p), 10, what=p)
        return read_env(p)

    def rules(self, text, tool=None, name="tcp"):
        cdb = os.path.join(self.dir, name + ".cdb")
        prog = tool or os.path.join(self.t.bin, "tcprules")
        p = subprocess.run([prog, cdb, cdb + ".tmp"], input=text.encode(), capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 0, p.stderr)
        return cdb

    # -- tcpserver ---------------------------------------------------------
    def test_environment_of_the_program(self):
        svc, port = self.t.serve(*self.envdump(), opts=("-HR", "-l", "mx.test.example"))
        _, me = talk(port)
        env = self.wait_env()
        self.assertEqual(env["PROTO"], "TCP")
        self.assertEqual(env["TCPLOCALIP"], "127.0.0.1")
        self.assertEqual(env["TCPLOCALPORT"], str(port))
        self.assertEqual(env["TCPLOCALHOST"], "mx.test.example")
        self.assertEqual(env["TCPREMOTEIP"], "127.0.0.1")
        self.assertEqual(env["TCPREMOTEPORT"], str(me))
        self.assertNotIn("TCPREMOTEHOST", env)  # -H
        self.assertNotIn("TCPREMOTEINFO", env)  # -R
        self.assertEqual(env["QMAILHOME"], self.t.home)  # our environment is passed on

    def test_ident_gives_tcpremoteinfo(self):
        # -r is the default, as in ucspi-tcp: tcpserver asks the client host's
        # ident server (RFC 1413) about the connection.  IDENTPORT points it
        # at a server on a high port instead of 113.
        ident = IdentServer()
        self.addCleanup(ident.close)
        # An info@ip rule matches only with the ident answer.
        cdb = self.rules('ann@127.0.0.1:allow,WHO="ann"\n:allow,WHO="other"\n')
        svc, port = self.t.serve(*self.envdump(), opts=("-v", "-H", "-l0", "-x", cdb),
                                 env={"IDENTPORT": str(ident.port)})
        _, me = talk(port)
        env = self.wait_env()
        self.assertEqual(ident.queries, [f"{me} , {port}\r\n"])
        self.assertEqual(env["TCPREMOTEINFO"], "ann")
        self.assertEqual(env["WHO"], "ann")
        svc.wait_log(r"tcpserver: ok \d+ 0:127\.0\.0\.1:%d :127\.0\.0\.1:ann:%d\n" % (port, me))
        # -R: no query, no TCPREMOTEINFO, and the rule without info applies.
        os.unlink(os.path.join(self.dir, "env"))
        svc2, port2 = self.t.serve(*self.envdump(), opts=("-HR", "-l0", "-x", cdb),
                                   env={"IDENTPORT": str(ident.port)})
        talk(port2)
        env = self.wait_env()
        self.assertNotIn("TCPREMOTEINFO", env)
        self.assertEqual(env["WHO"], "other")
        self.assertEqual(len(ident.queries), 1)

    def test_socket_on_fd0_and_fd1_and_banner(self):
        svc, port = self.t.serve("sh", "-c", "read x; echo \"you said $x\"", opts=("-HR", "-l0", "-B", "hello\n"))
        out, _ = talk(port, b"ping\n")
        self.assertEqual(out, b"hello\nyou said ping\n")

    def test_verbose_log_lines(self):
        svc, port = self.t.serve("sh", "-c", "exit 3", opts=("-v", "-HR", "-l0", "-c", "7"))
        svc.wait_log(r"tcpserver: status: 0/7\n")
        _, me = talk(port)
        svc.wait_log(r"tcpserver: end \d+ status 768\n")
        svc.wait_log(r"tcpserver: status: 0/7\n", count=2)
        log = svc.log()
        m = re.search(r"tcpserver: status: 1/7\ntcpserver: pid (\d+) from 127\.0\.0\.1\n", log)
        self.assertTrue(m, log)
        pid = m.group(1)
        self.assertIn(f"tcpserver: ok {pid} 0:127.0.0.1:{port} :127.0.0.1::{me}\n", log)
        self.assertIn(f"tcpserver: end {pid} status 768\n", log)

    def test_concurrency_limit(self):
        svc, port = self.t.serve("sh", "-c", "read x; echo \"got $x\"", opts=("-v", "-HR", "-l0", "-c", "2"))
        socks = []
        for i in range(3):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            socks.append(s)
        svc.wait_log(r"tcpserver: status: 2/2\n")
        # The children write their own "pid" lines, after the parent's status.
        svc.wait_log(r"tcpserver: pid ", count=2)
        # The third connection waits in the backlog: no third child starts.
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            self.assertEqual(len(re.findall(r"tcpserver: pid ", svc.log())), 2, svc.log())
            time.sleep(0.05)
        socks[2].sendall(b"third\n")
        socks[0].sendall(b"first\n")
        self.assertEqual(socks[0].recv(100), b"got first\n")
        socks[0].close()
        # One child ended, so the third client is accepted and served.
        socks[2].settimeout(10)
        self.assertEqual(socks[2].recv(100), b"got third\n")
        svc.wait_log(r"tcpserver: pid ", count=3)
        for s in socks[1:]:
            s.close()

    def test_listen_queue_follows_the_limit_unless_b_is_given(self):
        # ss shows a listening socket's queue length as Send-Q.
        def queue_len(port):
            out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True,
                                 check=True).stdout.split()
            return int(out[2])
        for opts, want in ((("-c", "150"), 150), ((), 40), (("-c", "5"), 20), (("-c", "150", "-b", "7"), 7)):
            svc, port = self.t.serve("sh", "-c", "echo hi", opts=("-HR", "-l0", *opts))
            self.assertEqual(queue_len(port), want, opts)
            svc.stop()

    def test_rules_allow_with_variables_and_deny(self):
        cdb = self.rules('# relay clients\n127.0.0.1:allow,RELAYCLIENT="",GREETING="hi there"\n'
                         '10.:deny\n:allow\n')
        svc, port = self.t.serve(*self.envdump(), opts=("-v", "-HR", "-l0", "-x", cdb),
                                 env={"RELAYCLIENT": "stale"})
        talk(port)
        env = self.wait_env()
        self.assertEqual(env["RELAYCLIENT"], "")
        self.assertEqual(env["GREETING"], "hi there")
        # Rules are read per connection: recompiling denies the next one at once.
        self.rules("127.:deny\n")
        out, me = talk(port)
        self.assertEqual(out, b"")
        svc.wait_log(rf"tcpserver: deny \d+ 0:127\.0\.0\.1:{port} :127\.0\.0\.1::{me}\n")
        svc.wait_log(r"tcpserver: end \d+ status 25600\n")  # exit 100

    def test_missing_rules_file(self):
        cdb = os.path.join(self.dir, "none.cdb")
        svc, port = self.t.serve("sh", "-c", "echo ran", opts=("-HR", "-l0", "-x", cdb))
        out, _ = talk(port)
        self.assertEqual(out, b"")
        svc.wait_log(r"tcpserver: warning: dropping connection, unable to read .*none\.cdb")
        svc2, port2 = self.t.serve("sh", "-c", "echo ran", opts=("-HR", "-l0", "-X", "-x", cdb))
        self.assertEqual(talk(port2)[0], b"ran\n")

    def test_ipv6_loopback(self):
        if not have_ipv6():
            self.skipTest("::1 is not available")
        svc, port = self.t.serve(*self.envdump(), host="::1", opts=("-v", "-HR", "-l0"))
        _, me = talk(port, host="::1")
        env = self.wait_env()
        self.assertEqual(env["PROTO"], "TCP6")
        self.assertEqual(env["TCPREMOTEIP"], "::1")
        self.assertEqual(env["TCPLOCALIP"], "::1")
        self.assertEqual(env["TCPREMOTEPORT"], str(me))
        self.assertEqual(env["TCP6REMOTEIP"], "::1")
        svc.wait_log(rf"tcpserver: ok \d+ 0:::1:{port} :::1::{me}\n")
        # IPv6 rules: the compact address as the key.
        cdb = self.rules('::1:allow,SIX="yes"\n', name="six")
        svc2, port2 = self.t.serve(*self.envdump("env2"), host="::1", opts=("-HR", "-l0", "-x", cdb))
        talk(port2, host="::1")
        self.assertEqual(self.wait_env("env2")["SIX"], "yes")

    # -- tcprules and Debian's ucspi-tcp ---------------------------------------
    RULES = ('# sample\n127.0.0.1:allow,RELAYCLIENT="",X=/a b/\n10.:deny\n'
             '=foo.example:allow,A="1"\n=.example:allow,B="2"\nrelay@1.2.3.4:allow\n'
             '1.2.3.40-42:deny\n192.168.:allow,RELAYCLIENT="@fixme"\n:allow,DEF="x"\n')

    def test_tcprules_bytes_match_debian(self):
        ours = self.rules(self.RULES, name="ours")
        theirs = self.rules(self.RULES, tool=DEB_TCPRULES, name="theirs")
        with open(ours, "rb") as a, open(theirs, "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertFalse(os.path.exists(ours + ".tmp"))

    def test_tcprules_errors_replace_nothing(self):
        cdb = self.rules("1.2.3.4:allow\n")
        before = open(cdb, "rb").read()
        for bad in ('1.2.3.4:allow,\n', '1.2.3.4:allow,A=1\n', '1.2.3.4:allow\r\n', '1.2.3.4:maybe\n'):
            p = subprocess.run([self.t.path("bin", "tcprules"), cdb, cdb + ".tmp"], input=bad.encode(),
                               capture_output=True, timeout=10)
            self.assertEqual(p.returncode, 100, bad)
            self.assertIn(b"tcprules: fatal: unable to parse this line: ", p.stderr)
            self.assertEqual(open(cdb, "rb").read(), before)

    def test_tcprulescheck_matches_debian_both_ways(self):
        ours = self.rules(self.RULES, name="ours")
        theirs = self.rules(self.RULES, tool=DEB_TCPRULES, name="theirs")
        cases = [{"TCPREMOTEIP": "127.0.0.1"}, {"TCPREMOTEIP": "10.9.8.7"},
                 {"TCPREMOTEIP": "9.9.9.9", "TCPREMOTEHOST": "foo.example"},
                 {"TCPREMOTEIP": "9.9.9.9", "TCPREMOTEHOST": "mx.bar.example"},
                 {"TCPREMOTEIP": "1.2.3.4", "TCPREMOTEINFO": "relay"},
                 {"TCPREMOTEIP": "1.2.3.41"}, {"TCPREMOTEIP": "192.168.7.7"}, {"TCPREMOTEIP": "8.8.8.8"}]
        for env in cases:
            for cdb in (ours, theirs):
                a = subprocess.run([self.t.path("bin", "tcprulescheck"), cdb], env=env, capture_output=True)
                b = subprocess.run([DEB_CHECK, cdb], env=env, capture_output=True)
                self.assertEqual(a.returncode, 0)
                self.assertEqual(a.stdout, b.stdout, (env, cdb))
        out = subprocess.run([self.t.path("bin", "tcprulescheck"), ours], env=cases[0], capture_output=True).stdout
        self.assertEqual(out, b"rule 127.0.0.1:\nset environment variable RELAYCLIENT=\n"
                              b"set environment variable X=a b\nallow connection\n")

    def test_debian_cdb_in_our_tcpserver(self):
        cdb = self.rules('127.0.0.1:allow,RELAYCLIENT="",FROM="debian"\n', tool=DEB_TCPRULES)
        svc, port = self.t.serve(*self.envdump(), opts=("-HR", "-l0", "-x", cdb))
        talk(port)
        env = self.wait_env()
        self.assertEqual(env["FROM"], "debian")
        self.assertEqual(env["RELAYCLIENT"], "")
        self.rules("127.0.0.:deny\n", tool=DEB_TCPRULES)
        self.assertEqual(talk(port)[0], b"")

    def test_our_cdb_in_debian_tcpserver(self):
        cdb = self.rules('127.0.0.1:allow,RELAYCLIENT="",FROM="evq"\n')
        svc, port = self.t.serve(*self.envdump(), opts=("-v", "-HR", "-l0", "-x", cdb), tcpserver=DEB_TCPSERVER)
        _, me = talk(port)
        env = self.wait_env()
        self.assertEqual(env["FROM"], "evq")
        self.assertEqual(env["RELAYCLIENT"], "")
        self.rules("127.:deny\n")
        self.assertEqual(talk(port)[0], b"")
        svc.wait_log(r"tcpserver: deny \d+ 0:127\.0\.0\.1:")

    def test_log_lines_match_debian(self):
        lines = []
        for ts in (None, DEB_TCPSERVER):
            svc, port = self.t.serve("sh", "-c", "exit 1", opts=("-v", "-HR", "-l0", "-c", "5"), tcpserver=ts,
                                     name=f"log-{bool(ts)}")
            _, me = talk(port)
            svc.wait_log(r"status: 0/5\n", count=2)
            text = svc.log().replace(str(port), "PORT").replace(str(me), "ME")
            lines.append(re.sub(r"(pid|ok|end) \d+", r"\1 PID", text))
        self.assertEqual(lines[0], lines[1])

    # -- tcpclient and tcp-env ------------------------------------------------------
    def test_tcpclient_talks_to_tcpserver(self):
        svc, port = self.t.serve("sh", "-c", "echo greeting; read x; echo \"server got $x\"", opts=("-HR", "-l0"))
        out = os.path.join(self.dir, "client")
        script = ("read g <&6; echo hello >&7; read r <&6; "
                  f"echo \"$g|$r|$PROTO|$TCPREMOTEIP|$TCPREMOTEPORT|$TCPLOCALIP|$TCPLOCALHOST\" > {out}")
        p = subprocess.run([self.t.path("bin", "tcpclient"), "-HR", "-l", "me.example", "127.0.0.1", str(port),
                            "sh", "-c", script], env=self.t.env(), capture_output=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out) as f:
            self.assertEqual(f.read(), f"greeting|server got hello|TCP|127.0.0.1|{port}|127.0.0.1|me.example\n")

    def test_tcpclient_ident(self):
        # -r, the default: TCPREMOTEINFO is what the server host's ident says.
        ident = IdentServer("srv")
        self.addCleanup(ident.close)
        svc, port = self.t.serve("sh", "-c", "echo hi", opts=("-HR", "-l0"))
        out = os.path.join(self.dir, "client")
        p = subprocess.run([self.t.path("bin", "tcpclient"), "-H", "127.0.0.1", str(port),
                            "sh", "-c", f"echo \"$TCPREMOTEINFO|$TCPLOCALPORT\" > {out}"],
                           env=self.t.env(IDENTPORT=str(ident.port)), capture_output=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        info, lport = open(out).read().strip().split("|")
        self.assertEqual(info, "srv")
        self.assertEqual(ident.queries, [f"{port} , {lport}\r\n"])

    def test_tcpclient_refused(self):
        port = evq.free_port()
        p = subprocess.run([self.t.path("bin", "tcpclient"), "-HR", "127.0.0.1", str(port), "true"],
                           env=self.t.env(), capture_output=True, timeout=20)
        self.assertEqual(p.returncode, 111)
        self.assertIn(f"tcpclient: unable to connect to 127.0.0.1 port {port}".encode(), p.stderr)

    def test_tcp_env_inetd_style(self):
        out = os.path.join(self.dir, "tcpenv")
        with socket.socket() as ls:
            ls.bind(("127.0.0.1", 0))
            ls.listen(1)
            port = ls.getsockname()[1]
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            conn, _ = ls.accept()
            with conn, c:
                env = self.t.env(TCPREMOTEINFO="forged")
                p = subprocess.run([self.t.path("bin", "tcp-env"), "-R", "sh", "-c", f"env > {out}; echo done"],
                                   stdin=conn.fileno(), stdout=conn.fileno(), env=env, timeout=20)
                self.assertEqual(p.returncode, 0)
                self.assertEqual(c.recv(100), b"done\n")
                e = read_env(out)
                self.assertEqual(e["PROTO"], "TCP")
                self.assertEqual(e["TCPLOCALPORT"], str(port))
                self.assertEqual(e["TCPREMOTEPORT"], str(c.getsockname()[1]))
                self.assertEqual(e["TCPREMOTEIP"], "127.0.0.1")
                self.assertNotIn("TCPREMOTEINFO", e)
                # -r, qmail's default: the ident answer becomes TCPREMOTEINFO.
                ident = IdentServer("joe")
                self.addCleanup(ident.close)
                subprocess.run([self.t.path("bin", "tcp-env"), "sh", "-c", f"env > {out}"], stdin=conn.fileno(),
                               env=self.t.env(IDENTPORT=str(ident.port)), timeout=20, check=True)
                self.assertEqual(read_env(out)["TCPREMOTEINFO"], "joe")
                self.assertEqual(ident.queries, [f"{c.getsockname()[1]} , {port}\r\n"])
                p = subprocess.run([self.t.path("bin", "tcp-env"), "-x", "true"], stdin=conn.fileno(),
                                   env=self.t.env(), capture_output=True, timeout=20)
                self.assertEqual(p.returncode, 100)
                # PROTO=TCP already: tcp-env leaves the environment alone, as qmail's does.
                env = self.t.env(PROTO="TCP", TCPREMOTEIP="1.2.3.4")
                subprocess.run([self.t.path("bin", "tcp-env"), "sh", "-c", f"env > {out}"],
                               stdin=conn.fileno(), env=env, timeout=20, check=True)
                self.assertEqual(read_env(out)["TCPREMOTEIP"], "1.2.3.4")
