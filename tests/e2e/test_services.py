"""The service recipe under Debian's daemontools (spec/tools.md 9-10): the
service directories made by qmail-smtpd-conf, qmail-pop3d-conf and
qmail-send-conf, run by svscan, logged by multilog, managed by qmailctl."""
import os
import pwd
import re
import shutil
import signal
import smtplib
import subprocess
import unittest

import evq

SCRIPTS = os.path.join(evq.SRC, "scripts")
CONF = ("qmail-smtpd-conf", "qmail-submission-conf", "qmail-pop3d-conf", "qmail-send-conf")


def have_daemontools():
    return all(shutil.which(p) for p in ("svscan", "supervise", "svstat", "svc", "multilog"))


def proc_uid(pid):
    """The real uid of process `pid`, from /proc."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise AssertionError(f"no Uid line for {pid}")


class ServiceTest(evq.TreeTest):
    def setUp(self):
        super().setUp()
        # scripts/setup installs only qmailctl; the generators go to bin/ too.
        for s in CONF:
            shutil.copy(os.path.join(SCRIPTS, s), os.path.join(self.t.bin, s))
            os.chmod(os.path.join(self.t.bin, s), 0o755)
        self.sv = os.path.join(self.t.base, "service")
        os.makedirs(self.sv)
        self.svscan = None

    def conf(self, prog, *args, check=True):
        return self.t.run(prog, *args, check=check)

    def start_svscan(self):
        env = self.t.env()
        if os.environ.get("EVQ_SANITIZED") == "1":
            # supervise stops a service with TERM then CONT.  A CONT that lands
            # after LeakSanitizer's exit-time ptrace attach cancels the attach's
            # SIGSTOP, and the process spins forever (seen with tcpserver).  The
            # same programs are leak-checked by every other test.
            env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        self.svscan = evq.Service(["svscan", self.sv], env, os.path.join(self.t.base, "svscan.log"))
        self.addCleanup(self.stop_svscan)

    def stop_svscan(self):
        for n in os.listdir(self.sv):
            d = os.path.join(self.sv, n)
            subprocess.run(["svc", "-dx", d, d + "/log"], capture_output=True)
        self.svscan.proc.send_signal(signal.SIGTERM)
        self.svscan.stop()

    def svstat(self, d):
        return subprocess.run(["svstat", d], capture_output=True, text=True).stdout

    def wait_up(self, d, seconds=1):
        rx = re.compile(r": up \(pid (\d+)\) (\d+) seconds")

        def up():
            m = rx.search(self.svstat(d))
            return m and int(m.group(2)) >= seconds and m
        m = evq.wait_for(up, 30, what=lambda: f"{d} up:\n{self.svstat(d)}\n{self.svscan.log()}")
        return int(m.group(1))

    def test_smtpd_conf_makes_the_recipe_layout(self):
        d = os.path.join(self.t.base, "smtpd")
        self.conf("qmail-smtpd-conf", "qmaild", "qmaill", d)
        for f in ("run", "log/run", "tcp", "Makefile", "add-relayclient", "tcp.cdb"):
            self.assertTrue(os.path.exists(os.path.join(d, f)), f)
        self.assertTrue(os.path.isdir(os.path.join(d, "log/main")))
        run = open(os.path.join(d, "run")).read()
        if self.t.system:
            # As root: tcpserver takes qmaild's ids from envuidgid (-U).
            self.assertIn(f"exec envuidgid qmaild {self.t.bin}/tcpserver -vDUHR -l", run)
            self.assertEqual(os.stat(os.path.join(d, "log/main")).st_uid, pwd.getpwnam("qmaill").pw_uid)
        else:
            self.assertIn(f"{self.t.bin}/tcpserver -vDHR -l", run)  # single-user: no -U, no envuidgid
        self.assertIn(f"-x tcp.cdb -c", run)
        self.assertIn('-- "${IP:-0}" "${PORT:-25}" ' + f"{self.t.bin}/qmail-smtpd", run)
        self.assertIn("exec envdir ./env sh -c", run)
        # qmail-conf's env/: the address and port are one file each.
        self.assertEqual(open(os.path.join(d, "env/IP")).read(), "0\n")
        self.assertEqual(open(os.path.join(d, "env/PORT")).read(), "25\n")
        self.assertIn("exec 2>&1", run)
        self.assertIn("multilog t ./main", open(os.path.join(d, "log/run")).read())
        # The recipe's relay step, then make.
        subprocess.run(["./add-relayclient", "127.0.0.1", "192.168.1."], cwd=d, check=True)
        self.assertEqual(open(os.path.join(d, "tcp")).read(),
                         '127.0.0.1:allow,RELAYCLIENT=""\n192.168.1.:allow,RELAYCLIENT=""\n')
        before = os.path.getsize(os.path.join(d, "tcp.cdb"))
        subprocess.run(["make", "-s"], cwd=d, check=True, env=self.t.env())
        self.assertGreater(os.path.getsize(os.path.join(d, "tcp.cdb")), before)
        # An existing directory is never overwritten; bad usage exits 100.
        self.assertEqual(self.conf("qmail-smtpd-conf", "qmaild", "qmaill", d, check=False).returncode, 111)
        self.assertEqual(self.conf("qmail-smtpd-conf", "qmaild", check=False).returncode, 100)
        self.assertEqual(self.conf("qmail-smtpd-conf", "qmaild", "qmaill", "rel", check=False).returncode, 111)

    def test_submission_conf_runs_a_submission_service(self):
        from test_tls import client_context, install_server_cert
        _, ca = install_server_cert(self.t)
        port = evq.free_port()
        d = os.path.join(self.t.base, "submission")
        self.conf("qmail-submission-conf", "qmaild", "qmaill", d, "127.0.0.1", str(port))
        env = {n: open(os.path.join(d, "env", n)).read() for n in os.listdir(os.path.join(d, "env"))}
        self.assertEqual(env, {"IP": "127.0.0.1\n", "PORT": f"{port}\n", "SMTPAUTH": "!\n",
                               "CHECKPASSWORD": f"{self.t.bin}/checkpassword\n"})
        d465 = os.path.join(self.t.base, "smtps")
        self.conf("qmail-submission-conf", "qmaild", "qmaill", d465, "127.0.0.1", "465")
        self.assertEqual(open(os.path.join(d465, "env", "SMTPS")).read(), "1\n")
        self.assertEqual(self.conf("qmail-submission-conf", "qmaild", check=False).returncode, 100)
        # The run file as supervise would run it: AUTH after STARTTLS, and
        # no MAIL before AUTH.
        svc = evq.Service(["./run"], self.t.env(), os.path.join(self.t.base, "submission.log"), cwd=d)
        self.addCleanup(svc.stop)
        evq.wait_for(lambda: evq.listening(port) or svc.proc.poll() is not None, 20, what="the submission service")
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("auth"))
            s.starttls(context=client_context(ca))
            s.ehlo("client.example")
            self.assertEqual(s.esmtp_features["auth"].split(), ["LOGIN", "PLAIN"])
            self.assertEqual(s.docmd("MAIL", "FROM:<a@example.net>"), (530, b"Authorization required (#5.7.1)"))

    def test_pop3d_and_send_conf_layout(self):
        p = os.path.join(self.t.base, "pop3d")
        self.conf("qmail-pop3d-conf", "/bin/checkpassword", "qmaild", "qmaill", p)
        run = open(os.path.join(p, "run")).read()
        self.assertIn('-- "${IP:-0}" "${PORT:-110}" ' +
                      f"{self.t.bin}/qmail-popup \"$host\" /bin/checkpassword {self.t.bin}/qmail-pop3d Maildir", run)
        self.assertEqual(open(os.path.join(p, "env/PORT")).read(), "110\n")
        self.assertFalse(os.path.exists(os.path.join(p, "env/POP3S")))
        p995 = os.path.join(self.t.base, "pop3s")
        self.conf("qmail-pop3d-conf", "/bin/checkpassword", "qmaild", "qmaill", p995, "0", "995")
        self.assertEqual(open(os.path.join(p995, "env/POP3S")).read(), "1\n")
        self.assertTrue(os.path.exists(os.path.join(p, "tcp.cdb")))
        s = os.path.join(self.t.base, "send")
        self.conf("qmail-send-conf", "qmaill", s)
        run = open(os.path.join(s, "run")).read()
        self.assertIn("qmail-start", run)
        self.assertIn("control/defaultdelivery", run)
        self.assertIn("multilog t ./main", open(os.path.join(s, "log/run")).read())

    @unittest.skipUnless(have_daemontools(), "Debian's daemontools is needed")
    def test_svscan_runs_smtpd_and_send_services(self):
        t = self.t
        home = t.add_user("joe")
        port = evq.free_port()
        smtpd = os.path.join(t.base, "qmail-service", "smtpd")
        send = os.path.join(t.base, "qmail-service", "send")
        os.makedirs(os.path.dirname(smtpd))
        self.conf("qmail-smtpd-conf", "qmaild", "qmaill", smtpd, "127.0.0.1", str(port))
        self.conf("qmail-send-conf", "qmaill", send)
        subprocess.run(["./add-relayclient", "127.0.0.1"], cwd=smtpd, check=True)
        subprocess.run(["make", "-s"], cwd=smtpd, check=True, env=t.env())
        # "ln -s /var/qmail/service/smtpd /service"
        os.symlink(smtpd, os.path.join(self.sv, "smtpd"))
        os.symlink(send, os.path.join(self.sv, "qmail-send"))
        self.start_svscan()
        sdir = os.path.join(self.sv, "smtpd")
        pid = self.wait_up(sdir, 1)
        self.wait_up(sdir + "/log", 1)
        self.wait_up(os.path.join(self.sv, "qmail-send"), 1)
        evq.wait_listening(port)
        # "Run svstat several times and make sure that the process IDs do not change."
        self.assertEqual(self.wait_up(sdir, 2), pid)
        if t.system:
            # The service's tcpserver listens as qmaild, as the recipe runs it.
            self.assertEqual(proc_uid(pid), pwd.getpwnam("qmaild").pw_uid)
        current = os.path.join(smtpd, "log", "main", "current")
        evq.wait_for(lambda: os.path.exists(current) and "tcpserver: status: 0/40" in open(current).read(),
                     20, what=lambda: f"status line in {current}")
        self.assertRegex(open(current).read(), r"(?m)^@[0-9a-f]{24} tcpserver: status: 0/40$")
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            s.sendmail("bob@a.example", ["joe@" + t.fqdn], b"Subject: via service\r\n\r\nhello\r\n")
        t.wait_maildir(os.path.join(home, "Maildir"), 1, timeout=30)
        # The Maildir has the message a moment before qmail-send has cleaned
        # it out of the queue.
        t.wait_queue_empty(timeout=30)
        evq.wait_for(lambda: "tcpserver: end" in open(current).read(), 20, what="tcpserver end line")
        send_log = os.path.join(send, "log", "main", "current")
        evq.wait_for(lambda: os.path.exists(send_log) and "delivery" in open(send_log).read(), 20,
                     what="qmail-send's log in multilog")
        # qmailctl manages the services.
        env = {"QMAILCTL_SVDIR": self.sv}
        st = t.run("qmailctl", "stat", env=env)
        self.assertRegex(st.stdout.decode(), r"smtpd: up \(pid %d\)" % pid)
        self.assertIn("qmail-send: up", st.stdout.decode())
        self.assertIn("messages in queue: 0", st.stdout.decode())
        cdb = t.run("qmailctl", "cdb", env=env)
        self.assertIn(b"rebuilt", cdb.stdout)
        t.run("qmailctl", "stop", env=env)
        evq.wait_for(lambda: ": down" in self.svstat(sdir), 30, what=lambda: "smtpd down:\n" + self.svstat(sdir))
        evq.wait_for(lambda: not evq.listening(port), 20, what="port closed")
        t.run("qmailctl", "start", env=env)
        pid2 = self.wait_up(sdir, 0)
        self.assertNotEqual(pid2, pid)
        evq.wait_listening(port)
        # The admin moves the service to another port by editing env/PORT.
        self.assertEqual(open(os.path.join(smtpd, "env/IP")).read(), "127.0.0.1\n")
        port2 = evq.free_port()
        with open(os.path.join(smtpd, "env/PORT"), "w") as f:
            f.write(f"{port2}\n")
        subprocess.run(["svc", "-t", sdir], check=True)
        evq.wait_listening(port2)
        evq.wait_for(lambda: not evq.listening(port), 20, what="the old port closed")
        with smtplib.SMTP("127.0.0.1", port2, timeout=30) as s:
            s.sendmail("bob@a.example", ["joe@" + t.fqdn], b"Subject: moved\r\n\r\nhello\r\n")
        t.wait_maildir(os.path.join(home, "Maildir"), 2, timeout=30)


if __name__ == "__main__":
    unittest.main()
