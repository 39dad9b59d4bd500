"""The system tier: evqmail installed as qmail is installed, and used as the
recipes use it.  Every test makes a root system tree with `make setup
QMAILHOME=<temp dir>` (programs compiled for that home, qmail's accounts),
its own login accounts for recipients (removed afterwards), starts
QMAILHOME/rc as root (splogger's lines caught by the harness), runs
qmail-smtpd under `tcpserver -u <qmaild uid> -g <nofiles gid>` and POP3 as
qmail-popup + checkpassword (root) + qmail-pop3d (the user).  No QMAILHOME is
in any environment: the programs know their home.

Root only: without root every test is skipped with the reason, and under
tests/run as root (EVQ_REQUIRE_SYSTEM=1) a test that cannot run fails."""
import os
import poplib
import pwd
import re
import signal
import smtplib
import stat
import subprocess
import tempfile
import time
import unittest

import evq
from evq import wait_for
from smtpsink import Recorder, Sink

SINK_IP = "127.0.0.5"   # not an interface address of ours, so not "ipme"
DNS_IP = "127.0.0.9"    # the test's DNS server, port 53, named in a resolv.conf for rc
PASSWORD = "s3cret-Pw"


def proc_ids(pid):
    """(real uid, real gid) of a process, from /proc/PID/status."""
    uid = gid = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                uid = int(line.split()[1])
            elif line.startswith("Gid:"):
                gid = int(line.split()[1])
    return uid, gid


def pids_of(comm):
    """pids whose /proc/PID/comm is `comm` (the program's file name)."""
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == comm[:15]:
                        out.append(int(pid))
            except OSError:
                pass
    return out


def files_in(md):
    return [os.path.join(md, sub, n) for sub in ("new", "cur") for n in sorted(os.listdir(os.path.join(md, sub)))]


class Dnsmasq:
    """dnsmasq on DNS_IP:53 answering only the records given (root: the
    resolv.conf given to rc cannot name a port)."""

    def __init__(self, t, records):
        argv = ["/usr/sbin/dnsmasq", "--no-daemon", "--port=53", f"--listen-address={DNS_IP}",
                "--bind-interfaces", "--no-resolv", "--no-hosts", "--pid-file=", "--log-facility=-",
                "--user=root", *records]
        self.svc = evq.Service(argv, {"PATH": "/usr/bin:/bin"}, os.path.join(t.base, "dnsmasq.log"))
        t.services.append(self.svc)
        wait_for(lambda: self._listening() or self.svc.proc.poll() is not None, 20, what="dnsmasq")
        if self.svc.proc.poll() is not None:
            raise AssertionError("dnsmasq exited: " + self.svc.log())
        self.resolv = os.path.join(t.base, "resolv.conf")
        with open(self.resolv, "w") as f:
            f.write(f"nameserver {DNS_IP}\noptions timeout:2 attempts:1\n")

    @staticmethod
    def _listening():
        want = "%08X:0035" % int.from_bytes(bytes(map(int, reversed(DNS_IP.split(".")))), "big")
        with open("/proc/net/udp") as fh:
            return any(line.split()[1] == want for line in list(fh)[1:])


@evq.system_only
class SystemTest(unittest.TestCase):
    def setUp(self):
        self.t = evq.Tree(mode="system")
        self.addCleanup(self.t.cleanup)
        self.fqdn = self.t.fqdn

    # -- helpers -------------------------------------------------------------
    def login_user(self, name):
        """A login user with a Maildir and a password for checkpassword."""
        home = self.t.add_user(name)
        subprocess.run(["chpasswd"], input=f"{name}:{PASSWORD}\n".encode(), check=True)
        return home

    def smtpd(self, relay=False):
        """qmail-smtpd under tcpserver as FAQ 5.1 has it: -u qmaild's uid,
        -g the nofiles gid (looked up), rules from a tcprules cdb."""
        rules = os.path.join(self.t.base, "tcp.smtp")
        with open(rules, "w") as f:
            f.write('127.:allow,RELAYCLIENT=""\n' if relay else ":allow\n")
        self.t.run("tcprules", rules + ".cdb", rules + ".tmp", input=open(rules, "rb").read())
        svc, port = self.t.serve("qmail-smtpd", opts=("-v", "-HR", *self.t.daemon_opts(), "-x", rules + ".cdb"),
                                 name="smtpd")
        return svc, port

    def swaks(self, port, to, frm, body="hello", subject="test", check=True):
        p = subprocess.run(["swaks", "--server", f"127.0.0.1:{port}", "--to", to, "--from", frm,
                            "--header", f"Subject: {subject}", "--body", body, "--timeout", "30"],
                           capture_output=True, timeout=60 * evq.TIME_SCALE)
        if check:
            self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
        return p

    def owned_by(self, path, name):
        pw = pwd.getpwnam(name)
        st = os.stat(path)
        self.assertEqual((st.st_uid, st.st_gid), (pw.pw_uid, pw.pw_gid), f"owner of {path}")

    def record_dir(self):
        d = os.path.join(self.t.base, "records")
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o1777)
        return d

    # -- local delivery ------------------------------------------------------
    def test_local_delivery_runs_as_each_recipient(self):
        t = self.t
        ann, ben = self.login_user("ann"), self.login_user("ben")
        rec = self.record_dir()
        # ben: a program line (records its uid) and mbox delivery after it.
        t.dot_qmail(ben, "", f"|id -u > {rec}/ben.uid\n./mbox\n")
        t.dot_qmail(ben, "-maildir", "./Maildir/\n")
        # ~alias/.qmail-*: deliveries run as alias.
        t.dot_qmail(t.alias_home(), "-helpdesk", f"|id -u > {rec}/alias.uid\n")
        t.start()
        svc, port = self.smtpd()
        self.swaks(port, f"ann@{self.fqdn}", f"ben@{self.fqdn}", body="to ann")
        self.swaks(port, f"ben@{self.fqdn}", f"ann@{self.fqdn}", body="to ben's mbox")
        self.swaks(port, f"ben-maildir@{self.fqdn}", f"ann@{self.fqdn}", body="to ben's Maildir")
        self.swaks(port, f"helpdesk@{self.fqdn}", f"ann@{self.fqdn}", body="to alias")
        [m] = t.wait_maildir(os.path.join(ann, "Maildir"))
        self.assertIn(b"to ann", m.as_bytes())
        t.wait_maildir(os.path.join(ben, "Maildir"))
        t.wait_queue_empty()
        for f in files_in(os.path.join(ann, "Maildir")):
            self.owned_by(f, "ann")
        for f in files_in(os.path.join(ben, "Maildir")):
            self.owned_by(f, "ben")
        # qmail-local's mbox is made by the recipient.
        mbox = os.path.join(ben, "mbox")
        self.owned_by(mbox, "ben")
        self.assertIn("to ben's mbox", open(mbox, encoding="latin-1").read())
        self.assertEqual(int(open(os.path.join(rec, "ben.uid")).read()), pwd.getpwnam("ben").pw_uid)
        self.assertEqual(int(open(os.path.join(rec, "alias.uid")).read()), pwd.getpwnam("alias").pw_uid)
        # The message came from the network: qmail-smtpd ran as qmaild.
        self.assertRegex(m.as_bytes().decode("latin-1"),
                         rf"Received: \(qmail \d+ invoked from network\)")
        self.assertRegex(t.log(), rf"info msg \d+: bytes \d+ from <ben@{re.escape(self.fqdn)}> qp \d+ uid "
                                  rf"{pwd.getpwnam('qmaild').pw_uid}\b")

    def test_unknown_user_bounces_and_pop3_reads_the_mailbox(self):
        t = self.t
        ann = self.login_user("ann")
        t.start()
        svc, port = self.smtpd()
        self.swaks(port, f"nosuchuser@{self.fqdn}", f"ann@{self.fqdn}", body="lost")
        [b] = t.wait_maildir(os.path.join(ann, "Maildir"))
        self.assertIn("Sorry, no mailbox here by that name. (#5.1.1)", b.as_bytes().decode())
        # qmail-pop3d leaves mail of the current second for the next session.
        newest = max(os.stat(f).st_mtime for f in files_in(os.path.join(ann, "Maildir")))
        wait_for(lambda: time.time() >= int(newest) + 1, 5, what="the next second")
        # FAQ 5.3: qmail-popup, the system checkpassword as root, qmail-pop3d as ann.
        pop, pport = t.serve("qmail-popup", self.fqdn, os.path.join(t.bin, "checkpassword"),
                             os.path.join(t.bin, "qmail-pop3d"), "Maildir", opts=("-HR",), name="pop3")
        c = poplib.POP3("127.0.0.1", pport, timeout=30)
        c.user("ann")
        c.pass_(PASSWORD)
        pids = [p for p in pids_of("qmail-pop3d")]
        self.assertTrue(pids, "a qmail-pop3d runs")
        self.assertEqual(proc_ids(pids[0]), (pwd.getpwnam("ann").pw_uid, pwd.getpwnam("ann").pw_gid))
        self.assertEqual(c.stat()[0], 1)
        text = b"\n".join(c.retr(1)[1]).decode()
        self.assertIn("failure notice", text)
        c.dele(1)
        c.quit()
        wait_for(lambda: t.maildir_count(os.path.join(ann, "Maildir")) == 0, 20, what="the deletion")
        # A wrong password is refused.
        c = poplib.POP3("127.0.0.1", pport, timeout=30)
        c.user("ann")
        with self.assertRaises(poplib.error_proto):
            c.pass_("wrong")
        c.close()

    def checkpassword(self, user, password, *prog):
        """Runs the system checkpassword as root with the fd-3 block."""
        r, w = os.pipe()
        os.write(w, f"{user}\0{password}\0<1.2@{self.fqdn}>\0".encode())
        os.close(w)
        try:
            # The pipe becomes fd 3 before subprocess closes the others.
            return subprocess.run([os.path.join(self.t.bin, "checkpassword"), *prog], pass_fds=(3,),
                                  preexec_fn=lambda: os.dup2(r, 3), capture_output=True,
                                  timeout=30 * evq.TIME_SCALE, cwd="/")
        finally:
            os.close(r)

    def test_checkpassword_enters_the_home_only_as_the_user(self):
        home = self.login_user("cay")
        uid = pwd.getpwnam("cay").pw_uid
        prog = ("/bin/sh", "-c", "pwd; id -u; echo $USER $HOME")
        p = self.checkpassword("cay", PASSWORD, *prog)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.decode().split("\n")[:3], [home, str(uid), f"cay {home}"])
        self.assertEqual(self.checkpassword("cay", "wrong", *prog).returncode, 1)
        self.assertEqual(self.checkpassword("nobody-here-evq", PASSWORD, *prog).returncode, 1)
        # A home cay may not enter is not entered for cay: the ids are
        # dropped before the chdir, as in the original checkpassword.
        os.chown(home, 0, 0)
        os.chmod(home, 0o700)
        try:
            p = self.checkpassword("cay", PASSWORD, *prog)
        finally:
            os.chown(home, uid, pwd.getpwnam("cay").pw_gid)
            os.chmod(home, 0o755)
        self.assertEqual((p.returncode, p.stdout), (111, b""))

    # -- remote delivery -----------------------------------------------------
    def sink(self, port=None):
        s = Sink(SINK_IP, port=port)
        self.addCleanup(s.stop)
        return s

    def test_remote_through_smtproutes_bounce_and_retry(self):
        t = self.t
        ann = self.login_user("ann")
        sink = self.sink()
        t.control("smtproutes", f"remote.example:{SINK_IP}:{sink.port}\n")
        t.start()
        svc, port = self.smtpd(relay=True)
        # qmail-rspawn runs as qmailr and accepts the queue's messages.
        self.swaks(port, "bob@remote.example", f"ann@{self.fqdn}", body="out")
        [(frm, rcpts, body)] = sink.wait(1)
        self.assertEqual((frm, rcpts), (f"ann@{self.fqdn}", ["bob@remote.example"]))
        t.wait_log(r"delivery \d+: success: 127\.0\.0\.5_accepted_message")
        # A 5xx becomes a bounce in the sender's Maildir.
        sink.handler.rcpt_code = "550 no such user here"
        self.swaks(port, "gone@remote.example", f"ann@{self.fqdn}", body="refused")
        [b] = t.wait_maildir(os.path.join(ann, "Maildir"))
        text = b.as_bytes().decode()
        self.assertIn("<gone@remote.example>:", text)
        self.assertIn("550 no such user here", text)
        self.owned_by(files_in(os.path.join(ann, "Maildir"))[0], "ann")
        # A 4xx stays queued; after ALRM it goes.
        sink.handler.rcpt_code = "451 try later"
        self.swaks(port, "later@remote.example", f"ann@{self.fqdn}", body="deferred")
        t.wait_log(r"delivery \d+: deferral: .*451_try_later")
        self.assertIn("later@remote.example", t.run("qmail-qread").stdout.decode())
        self.assertEqual(len(sink.handler.messages), 1)
        sink.handler.rcpt_code = None
        t.signal(signal.SIGALRM)
        sink.wait(2)
        self.assertEqual(sink.handler.messages[1][1], ["later@remote.example"])
        t.wait_queue_empty()

    def test_remote_through_mx_from_dns(self):
        t = self.t
        self.login_user("ann")
        try:
            sink = self.sink(port=25)
        except OSError as e:
            self.fail(f"an MX delivery needs port 25 on {SINK_IP}: {e}")
        dns = Dnsmasq(t, ["--mx-host=mx.example,mail.mx.example,10",
                          f"--host-record=mail.mx.example,{SINK_IP}"])
        t.start(resolv=dns.resolv)
        t.inject(f"From: ann@{self.fqdn}\nTo: carl@mx.example\nSubject: by MX\n\nhi\n",
                 "-f", f"ann@{self.fqdn}", user="ann")
        [(frm, rcpts, body)] = sink.wait(1)
        self.assertEqual((frm, rcpts), (f"ann@{self.fqdn}", ["carl@mx.example"]))
        # Injected by ann herself: qmail-queue records her uid.
        self.assertRegex(body.decode("latin-1"), rf"invoked by uid {pwd.getpwnam('ann').pw_uid}\)")
        t.wait_queue_empty()

    # -- privilege -----------------------------------------------------------
    def test_qmail_queue_ignores_qmailhome_of_a_user(self):
        t = self.t
        ann = self.login_user("ann")
        qq = t.path("bin", "qmail-queue")
        st = os.stat(qq)
        self.assertTrue(st.st_mode & stat.S_ISUID, "qmail-queue is setuid")
        self.assertEqual(st.st_uid, pwd.getpwnam("qmailq").pw_uid)
        # ann makes a tree of her own (a private, single-user tree) and
        # points QMAILHOME at it while running the system's setuid qmail-queue.
        mine = os.path.join(ann, "mytree")
        subprocess.run(t.as_user("ann") + ["env", f"BUILD={t.build}", "sh",
                                           os.path.join(evq.SRC, "scripts", "setup"), mine],
                       check=True, stdout=subprocess.DEVNULL)
        env = b"Fann@x\0Tann@" + self.fqdn.encode() + b"\0\0"
        r, w = os.pipe()
        os.write(w, env)
        os.close(w)
        p = subprocess.run(t.as_user("ann") + [qq], input=b"Subject: hijack?\n\nbody\n", stdout=r,
                           env={"PATH": "/usr/bin:/bin", "QMAILHOME": mine}, timeout=30)
        os.close(r)
        self.assertEqual(p.returncode, 0)
        # The message is in the system tree's queue, never in hers.
        todo = os.listdir(t.path("queue", "todo"))
        self.assertEqual(len(todo), 1, todo)
        for d in ("todo", "intd"):
            self.assertEqual(os.listdir(os.path.join(mine, "queue", d)), [])
        n = int(todo[0])
        mess = t.path("queue", "mess", str(n % 23), str(n))
        self.assertEqual(os.stat(mess).st_uid, pwd.getpwnam("qmailq").pw_uid)
        self.assertIn(f"invoked by uid {pwd.getpwnam('ann').pw_uid}", open(mess).read())
        # Her own tree is hers: in it every account is ann (single-user).
        show = subprocess.run(t.as_user("ann") + [os.path.join(mine, "bin", "qmail-showctl")],
                              env={"QMAILHOME": mine, "PATH": "/usr/bin:/bin"}, capture_output=True)
        uid = pwd.getpwnam("ann").pw_uid
        self.assertIn(f"user ids: alias {uid}, qmaild {uid},", show.stdout.decode())
        # The system tree's qmail-showctl, by the same user with the same
        # variable, is about the system tree: its home is compiled in... and
        # QMAILHOME is honoured (not setuid), but her tree's mode is hers.
        sysshow = t.run("qmail-showctl").stdout.decode()
        self.assertIn(f"qmail home directory: {t.home}.", sysshow)
        self.assertIn(f"qmaild {pwd.getpwnam('qmaild').pw_uid},", sysshow)

    def test_daemons_run_under_qmail_accounts(self):
        t = self.t
        self.login_user("ann")
        t.start()
        svc, port = self.smtpd()
        want = {"qmail-send": "qmails", "qmail-clean": "qmailq", "qmail-rspawn": "qmailr",
                "qmail-lspawn": "root", "splogger": "qmaill"}
        for comm, account in want.items():
            pids = [p for p in pids_of(comm) if p in t.processes() or comm == "splogger"
                    and os.path.dirname(os.readlink(f"/proc/{p}/exe")) == t.bin]
            self.assertEqual(len(pids), 1, f"{comm}: {pids}")
            self.assertEqual(proc_ids(pids[0])[0], pwd.getpwnam(account).pw_uid, comm)
        # tcpserver itself has dropped to qmaild, and so has the session.
        self.assertEqual(proc_ids(svc.proc.pid), t.ids("qmaild", "nofiles"))
        s = smtplib.SMTP("127.0.0.1", port, timeout=30)
        s.ehlo("client.example")
        [pid] = wait_for(lambda: [p for p in pids_of("qmail-smtpd") if p in t.processes()], 20,
                         what="a qmail-smtpd session")
        self.assertEqual(proc_ids(pid), t.ids("qmaild", "nofiles"))
        s.quit()

    # -- the queue manager ---------------------------------------------------
    def test_term_during_deliveries_logs_exiting(self):
        t = self.t
        ann = self.login_user("ann")
        slow = Recorder()
        slow.delay = 3
        sink = Sink(SINK_IP, handler=slow)
        self.addCleanup(sink.stop)
        t.control("smtproutes", f"slow.example:{SINK_IP}:{sink.port}\n")
        t.dot_qmail(ann, "", "|sleep 3\n./Maildir/\n")
        t.start()
        t.inject("Subject: local\n\nx\n", f"ann@{self.fqdn}")
        t.inject("Subject: remote\n\nx\n", "x@slow.example")
        t.wait_log(r"starting delivery \d+: msg \d+ to local ann@")
        t.wait_log(r"starting delivery \d+: msg \d+ to remote x@slow\.example")
        t.signal(signal.SIGTERM)
        # Through splogger and syslog, within 10 s: the running deliveries
        # end (3 s each), then qmail-send says so and exits.
        wait_for(lambda: "status: exiting" in t.log(), 10, what=lambda: "status: exiting\n" + t.log()[-2000:])
        self.assertEqual(t.send.wait(10 * evq.TIME_SCALE), 0)
        log = t.log()
        self.assertEqual(len(re.findall(r"starting delivery", log)), len(re.findall(r"delivery \d+: (success|failure|deferral)", log)))
        self.assertEqual(t.maildir_count(os.path.join(ann, "Maildir")), 1)
        self.assertEqual(len(slow.messages), 1)
        # Every helper of that qmail-send is gone as well.
        wait_for(lambda: not t.processes(), 10, what=lambda: f"the helpers to exit: {t.processes()}")

    def test_setup_twice_keeps_controls_rc_and_queue(self):
        t = self.t
        ann = self.login_user("ann")
        t.control("me", "mail.example.org\n")
        t.control("concurrencylocal", "3\n")
        with open(t.path("rc"), "a") as f:
            f.write("# local change\n")
        t.inject("Subject: waiting\n\nx\n", f"ann@{self.fqdn}")
        queued = os.listdir(t.path("queue", "todo"))
        self.assertEqual(len(queued), 1)
        # The upgrade: make setup again over the live tree.
        subprocess.run(["make", "-s", "-C", evq.SRC, "setup", *evq.make_vars(t.build, t.home)],
                       check=True, stdout=subprocess.DEVNULL)
        self.assertEqual(open(t.path("control", "me")).read(), "mail.example.org\n")
        self.assertEqual(open(t.path("control", "concurrencylocal")).read(), "3\n")
        self.assertTrue(open(t.path("rc")).read().endswith("# local change\n"))
        self.assertEqual(os.listdir(t.path("queue", "todo")), queued)
        self.assertTrue(os.stat(t.path("bin", "qmail-queue")).st_mode & stat.S_ISUID)
        # ... and the queued message is delivered after it.
        t.start()
        t.wait_maildir(os.path.join(ann, "Maildir"))

    def test_setup_refuses_programs_built_for_another_home(self):
        other = os.path.join(self.t.base, "elsewhere")
        p = subprocess.run(["sh", os.path.join(evq.SRC, "scripts", "setup"), other],
                           env=dict(os.environ, BUILD=self.t.build), capture_output=True)
        self.assertEqual(p.returncode, 111)
        self.assertIn(f"built for {self.t.home}, not {other}", p.stderr.decode())
        self.assertFalse(os.path.exists(other))

    def test_two_system_trees_side_by_side(self):
        a = self.t
        b = evq.Tree(mode="system", home=os.path.join(evq.system_dir(), "qmail2"), fqdn="two.example")
        self.addCleanup(b.cleanup)
        ann = self.login_user("ann")
        b_user = b.add_user("bea")
        # Each tree's programs are compiled for it.
        self.assertIn(f"qmail home directory: {a.home}.", a.run("qmail-showctl").stdout.decode())
        self.assertIn(f"qmail home directory: {b.home}.", b.run("qmail-showctl").stdout.decode())
        a.start()
        b.start()
        _, pa = self.smtpd()
        _, pb = b.serve("qmail-smtpd", opts=("-HR", *b.daemon_opts()), name="smtpd-b")
        self.swaks(pa, f"ann@{a.fqdn}", "x@y.example", body="for tree a")
        self.swaks(pb, f"bea@{b.fqdn}", "x@y.example", body="for tree b")
        a.wait_maildir(os.path.join(ann, "Maildir"))
        b.wait_maildir(os.path.join(b_user, "Maildir"))
        a.wait_queue_empty()
        b.wait_queue_empty()
        # One message each: b's qmail-smtpd queued into b's queue only.
        self.assertEqual(len(re.findall(r"new msg \d+", a.log())), 1, a.log())
        self.assertEqual(len(re.findall(r"new msg \d+", b.log())), 1, b.log())
        self.assertIn(f"to local ann@{a.fqdn}", a.log())
        self.assertIn(f"to local bea@{b.fqdn}", b.log())
        self.assertNotIn("bea@", a.log())
        self.assertNotIn("ann@", b.log())


@evq.system_only
class MakeRunAsRootTest(unittest.TestCase):
    def test_make_run_demo_as_root(self):
        # make run as root runs the private tree as the account evqrun.
        d = tempfile.mkdtemp(prefix="evq-run-", dir=evq.system_dir())
        os.chmod(d, 0o755)
        self.addCleanup(subprocess.run, ["rm", "-rf", d])
        env = dict(os.environ, BUILD=evq.BUILD, EVQ_RUN_DIR=os.path.join(d, "run"),
                   EVQ_DEMO_WAIT=str(int(30 * evq.TIME_SCALE)))
        env.pop("QMAILHOME", None)
        p = subprocess.run(["bash", os.path.join(evq.SRC, "scripts/run"), "--demo"], env=env,
                           capture_output=True, timeout=120 * evq.TIME_SCALE)
        self.assertEqual(p.returncode, 0, p.stdout.decode()[-2000:] + p.stderr.decode()[-2000:])
        self.assertEqual(pwd.getpwuid(os.stat(os.path.join(d, "run", "qmail", "queue")).st_uid).pw_name, "evqrun")


if __name__ == "__main__":
    unittest.main()
