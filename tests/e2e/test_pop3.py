"""POP3 end to end: qmail-popup, a checkpassword and qmail-pop3d under
tcpserver (FAQ 5.3), read by Python's poplib and by the real client mpop; the
ISP guide's virtual POP boxes (seeds/004) behind checkvpw and qmail-newvpw; a
10,000-message mailbox.

In a system tree the recipe runs as written: tcpserver as root, the system
`checkpassword` (bin/, reading /etc/shadow) as root, qmail-pop3d as the
mailbox's owner, a real login user per mailbox with a password set by
chpasswd, messages delivered into Maildirs owned by their users, and the ISP
guide's boxes owned by a real `popusr` account that checkvpw switches to.  In
a private tree every account is the test user, who has no password: the
mailboxes are checkvpw entries (name@FQDN) mapped to the test user instead."""
import os
import poplib
import re
import socket
import subprocess
import sys
import time

import evq
from evq import wait_for

FQDN = evq.FQDN
# Our tcpserver (reactor/) unless EVQ_POP3_TCPSERVER names another one,
# e.g. Debian's /usr/bin/tcpserver.
TCPSERVER = os.environ.get("EVQ_POP3_TCPSERVER") or None
PASSWORD = "s3cret pass"


def settle(maildir):
    """qmail-pop3d skips files whose mtime is the current second: wait until
    every message in `maildir` is at least one second old."""
    newest = 0
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        for n in os.listdir(d):
            newest = max(newest, os.stat(os.path.join(d, n)).st_mtime)
    wait_for(lambda: time.time() >= int(newest) + 1, 5, what="the next second")


def files(maildir, sub):
    return sorted(os.listdir(os.path.join(maildir, sub)))


def proc_ids(pid):
    """(real uid, real gid) of a process, from /proc/PID/status."""
    ids = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("Uid:", "Gid:")):
                ids[line[:3]] = int(line.split()[1])
    return ids["Uid"], ids["Gid"]


class Pop3Base(evq.TreeTest):
    """Mail users, boxes and a qmail-popup service (no tests of its own;
    test_pop3_tls builds on it)."""

    def setUp(self):
        super().setUp()
        self.vpw = []   # (login, uid, gid, directory) of users/vpasswd

    # -- set-up helpers ------------------------------------------------------
    def hash(self, password=PASSWORD):
        p = self.t.run("qmail-newvpw", "-h", input=(password + "\n").encode())
        h = p.stdout.decode().strip()
        self.assertTrue(h.startswith("$"), h)
        return h

    def vpasswd(self, entries, owner=None):
        """Adds (login, directory) entries to users/vpasswd, all mapped to
        the uid/gid of `owner` (the test user in a private tree), and runs
        qmail-newvpw."""
        uid, gid = self.t.ids(owner) if owner else (self.t.uid, self.t.gid)
        self.vpw += [(login, uid, gid, d) for login, d in entries]
        h = self.hash()
        with open(self.t.path("users", "vpasswd"), "w") as f:
            for login, u, g, d in self.vpw:
                f.write(f"{login}:{h}:{u}:{g}:{d}\n")
        self.t.run("qmail-newvpw")

    def mail_user(self, name, password=True):
        """A user who reads mail by POP3, with a Maildir; returns its home.
        System: a real login account with PASSWORD for the system
        checkpassword. Private: a checkvpw box name@FQDN (see login)."""
        home = self.t.add_user(name)
        if not password:
            return home
        if self.t.system:
            subprocess.run(["chpasswd"], input=f"{name}:{PASSWORD}\n".encode(), check=True)
        else:
            self.vpasswd([(name + "@" + FQDN, home)])
        return home

    def login(self, name):
        """The POP3 login name of mail_user(name)."""
        return name if self.t.system else name + "@" + FQDN

    def serve_pop(self, checker=None, maildir="Maildir", delay="0", extra_env=None):
        """FAQ 5.3: tcpserver (as root in a system tree) running
        `qmail-popup FQDN checker qmail-pop3d maildir`; the checker is the
        system checkpassword in a system tree, checkvpw in a private one."""
        env = {"POPUP_FAILDELAY": delay, **(extra_env or {})}
        checker = checker or ("checkpassword" if self.t.system else "checkvpw")
        checker = checker if os.path.isabs(checker) else os.path.join(self.t.bin, checker)
        self.svc, self.port = self.t.serve("qmail-popup", FQDN, checker,
                                           os.path.join(self.t.bin, "qmail-pop3d"), maildir,
                                           env=env, tcpserver=TCPSERVER, name="pop3")
        return self.port

    def pop(self, user, password=PASSWORD):
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        p.user(user)
        p.pass_(password)
        return p

    def assert_pop3d_runs_as(self, account):
        """During a session (after PASS): its qmail-pop3d runs with the
        uid and gid of `account` (the test user's in a private tree)."""
        path = os.path.join(self.t.bin, "qmail-pop3d").encode()
        [pid] = wait_for(lambda: [p for p, a in self.t.processes().items() if a[0] == path], 10,
                         what="one qmail-pop3d process")
        self.assertEqual(proc_ids(pid), self.t.ids(account), "qmail-pop3d's uid and gid")

    def assert_owned(self, maildir, account):
        """Every message file of `maildir` belongs to `account`."""
        want = self.t.ids(account)
        for sub in ("new", "cur"):
            for n in os.listdir(os.path.join(maildir, sub)):
                p = os.path.join(maildir, sub, n)
                self.assertEqual(self.t.owner_of(p), want, f"owner of {p}")

    def deliver(self, rcpt, n, prefix="msg"):
        for i in range(n):
            self.t.inject(f"To: {rcpt}\nSubject: {prefix} {i}\n\nbody {i}\n.leading dot\n")

    def deliver_smtp(self, rcpt, n, prefix="msg"):
        """Sends n messages through our qmail-smtpd under tcpserver with
        qmaild's uid and the nofiles gid (FAQ 5.1), by smtplib."""
        import smtplib
        _, port = self.t.serve("qmail-smtpd", opts=("-R", "-H", "-l", FQDN, *self.t.daemon_opts()),
                               tcpserver=TCPSERVER, name="smtpd")
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as c:
            for i in range(n):
                c.sendmail("sender@example.org", [rcpt],
                           f"To: {rcpt}\r\nSubject: {prefix} {i}\r\n\r\nbody {i}\r\n.leading dot\r\n")

    def raw(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        f = s.makefile("rb")
        return s, f



class Pop3Test(Pop3Base):

    # -- the local path, poplib ---------------------------------------------
    def test_poplib_retrieve_and_delete(self):
        home = self.mail_user("alice")
        md = os.path.join(home, "Maildir")
        self.t.start()
        self.deliver("alice", 3)
        self.t.wait_maildir(md, 3)
        # tmp/ debris: removed when older than 36 hours (by atime), kept otherwise.
        old, young = os.path.join(md, "tmp", "old"), os.path.join(md, "tmp", "young")
        for p in (old, young):
            open(p, "w").close()
        os.utime(old, (time.time() - 36 * 3600 - 60, time.time()))
        self.t.chown(os.path.join(md, "tmp"), "alice")
        self.assert_owned(md, "alice")
        settle(md)
        self.serve_pop()

        p = self.pop(self.login("alice"))
        self.assertEqual(p.stat()[0], 3)
        self.assert_pop3d_runs_as("alice")
        resp, listing, _ = p.list()
        self.assertEqual(len(listing), 3)
        names = set(files(md, "new"))
        uidls = [l.decode().split()[1] for l in p.uidl()[1]]
        self.assertEqual(set(uidls), names)  # UIDL = file name without :info
        subjects = []
        for i in range(1, 4):
            lines = p.retr(i)[1]
            subjects += [l.decode() for l in lines if l.startswith(b"Subject:")]
            self.assertIn(b".leading dot", lines)  # dot-stuffing undone by poplib
            self.assertEqual(lines[-1], b"")  # qmail's extra empty line
        self.assertEqual(sorted(subjects), ["Subject: msg 0", "Subject: msg 1", "Subject: msg 2"])
        top = p.top(1, 0)[1]
        self.assertNotIn(b"body 0", top)
        self.assertIn(b"", top)
        self.assertEqual(p.dele(2), b"+OK ")
        with self.assertRaises(poplib.error_proto):
            p.dele(2)
        self.assertEqual(p.stat()[0], 2)
        self.assertEqual(p.quit(), b"+OK ")
        wait_for(lambda: len(files(md, "new")) == 0, 10, what="new/ emptied at QUIT")
        cur = files(md, "cur")
        self.assertEqual(len(cur), 2)
        self.assertTrue(all(n.endswith(":2,") for n in cur), cur)
        self.assertFalse(os.path.exists(old))
        self.assertTrue(os.path.exists(young))

        # A second session sees the same UIDLs for the remaining two (in a
        # private tree through checkvpw's user%domain, any case).
        p = self.pop("alice" if self.t.system else "ALICE%" + FQDN)
        self.assertEqual(p.stat()[0], 2)
        self.assertEqual({l.decode().split()[1] for l in p.uidl()[1]} <= set(uidls), True)
        p.quit()

    def test_no_quit_no_change(self):
        home = self.mail_user("bob")
        md = os.path.join(home, "Maildir")
        self.t.start()
        self.deliver("bob", 2)
        self.t.wait_maildir(md, 2)
        settle(md)
        before = files(md, "new")
        self.serve_pop()
        p = self.pop(self.login("bob"))
        p.dele(1)
        p.dele(2)
        p.sock.close()  # connection drops without QUIT
        # qmail-pop3d sees EOF and exits: nothing is deleted or moved.
        p2 = self.pop(self.login("bob"))
        self.assertEqual(p2.stat()[0], 2)
        p2.rset()
        p2.sock.close()
        self.assertEqual(files(md, "new"), before)
        self.assertEqual(files(md, "cur"), [])

    # -- the dialogue byte for byte -------------------------------------------
    def test_transcript(self):
        home = self.mail_user("carol")
        md = os.path.join(home, "Maildir")
        self.t.start()
        self.deliver("carol", 1)
        self.t.wait_maildir(md, 1)
        settle(md)
        self.serve_pop()
        s, f = self.raw()
        greet = f.readline()
        self.assertRegex(greet, rb"^\+OK <\d+\.\d+@" + re.escape(FQDN.encode()) + rb">\r\n$")

        def cmd(line):
            s.sendall(line + b"\r\n")
            return f.readline()
        self.assertEqual(cmd(b"STAT"), b"-ERR authorization first\r\n")
        self.assertEqual(cmd(b"PASS x"), b"-ERR USER first\r\n")
        self.assertEqual(cmd(b"USER"), b"-ERR syntax error\r\n")
        self.assertEqual(cmd(b"NOOP"), b"+OK \r\n")
        # USER, PASS and commands after it in one packet: nothing may be lost
        # between qmail-popup and qmail-pop3d.
        s.sendall(b"USER " + self.login("carol").encode() + b"\r\nPASS " + PASSWORD.encode() +
                  b"\r\nSTAT\r\nRETR 18446744073709551617\r\nRETR 0\r\nRETR x\r\nTOP 1 0\r\n")
        self.assertEqual(f.readline(), b"+OK \r\n")  # USER
        self.assertEqual(f.readline(), b"+OK \r\n")  # PASS (from qmail-pop3d)
        self.assertRegex(f.readline(), rb"^\+OK 1 \d+\r\n$")
        self.assertEqual(f.readline(), b"-ERR not that many messages\r\n")
        self.assertEqual(f.readline(), b"-ERR messages are counted from 1\r\n")
        self.assertEqual(f.readline(), b"-ERR syntax error\r\n")
        top = []
        while True:
            line = f.readline()
            top.append(line)
            if line == b".\r\n" or not line:
                break
        self.assertEqual(top[0], b"+OK \r\n")
        self.assertIn(b"Subject: msg 0\r\n", top)
        self.assertEqual(top[-3:], [b"\r\n", b"\r\n", b".\r\n"])  # header end + qmail's extra line
        self.assertEqual(cmd(b"XTND"), b"-ERR unimplemented\r\n")
        self.assertEqual(cmd(b"QUIT"), b"+OK \r\n")
        self.assertEqual(f.readline(), b"")
        s.close()

    # -- failed logins ---------------------------------------------------------
    def test_failed_login_logged_and_slowed(self):
        self.mail_user("dave")
        dave, nobody = self.login("dave"), self.login("nobody-evq")
        self.serve_pop(delay="0.5")
        for user, password in ((dave, "wrong-password-123"), (nobody, "guess-456")):
            p = poplib.POP3("127.0.0.1", self.port, timeout=20)
            p.user(user)
            t0 = time.monotonic()
            with self.assertRaises(poplib.error_proto) as cm:
                p.pass_(password)
            self.assertGreaterEqual(time.monotonic() - t0, 0.45)
            self.assertEqual(str(cm.exception), "b'-ERR authorization failed'")
            p.close()
        self.svc.wait_log(r"login failed for user '" + re.escape(nobody) + "'")
        log = self.svc.log()
        self.assertIn("login failed for user '" + dave + "'", log)
        self.assertNotIn("wrong-password-123", log)
        self.assertNotIn("guess-456", log)
        # One attempt per connection, as qmail-popup: the connection is closed.
        s, f = self.raw()
        f.readline()
        s.sendall(b"USER " + dave.encode() + b"\r\nPASS nope\r\nUSER x\r\n")
        self.assertEqual(f.readline(), b"+OK \r\n")
        self.assertEqual(f.readline(), b"-ERR authorization failed\r\n")
        try:
            rest = f.readline()
        except ConnectionResetError:  # unread input makes the close a reset
            rest = b""
        self.assertEqual(rest, b"")
        s.close()

    def test_newvpw_errors_and_hash(self):
        with open(self.t.path("users", "vpasswd"), "w") as f:
            f.write("# comment\nok@example.com:$6$x$y:1000:1000:/box\nbad@example.com:$6$x$y:uid:1000:/box\n")
        r = self.t.run("qmail-newvpw", check=False)
        self.assertEqual(r.returncode, 100)
        self.assertEqual(r.stderr.decode(), "qmail-newvpw: fatal: users/vpasswd: line 3: bad uid 'uid'\n")
        self.assertFalse(os.path.exists(self.t.path("users", "vpasswd.cdb")))
        r = self.t.run("qmail-newvpw", "-h", input=b"", check=False)
        self.assertEqual(r.returncode, 100)
        a, b = self.hash("pw"), self.hash("pw")
        self.assertNotEqual(a, b)  # salted

    def test_system_checkpassword_rejects(self):
        # Our test user has no password; an unknown account is rejected too.
        self.serve_pop(checker="checkpassword")
        for user in ("no-such-user-xyz", os.environ.get("USER") or "root"):
            p = poplib.POP3("127.0.0.1", self.port, timeout=20)
            p.user(user)
            with self.assertRaises(poplib.error_proto):
                p.pass_("x")
            p.close()
        self.t.wait_programs_done("qmail-popup")  # both sessions have ended

    def test_third_party_checkpassword(self):
        """The checkpassword interface: a foreign program reads
        name\\0password\\0timestamp\\0 from fd 3 and runs the rest."""
        home = self.t.add_user("erin")
        md = os.path.join(home, "Maildir")
        rec = os.path.join(self.t.base, "cp-record")
        script = os.path.join(self.t.base, "mycheckpw")
        with open(script, "w") as f:
            f.write(f"#!{sys.executable}\n"
                    "import os, sys\n"
                    "data = b''\n"
                    "while True:\n"
                    "    b = os.read(3, 512)\n"
                    "    if not b: break\n"
                    "    data += b\n"
                    f"open({rec!r}, 'wb').write(data)\n"
                    "user, pw, stamp = data.split(b'\\0')[:3]\n"
                    "if user != b'erin' or pw not in (b'pw', b'0123456789abcdef0123456789abcdef'): sys.exit(1)\n"
                    "if os.getuid() == 0:  # as a checkpassword must: become the user\n"
                    f"    os.setgroups([]); os.setgid({self.t.ids('erin')[1]}); os.setuid({self.t.ids('erin')[0]})\n"
                    f"os.chdir({home!r}); os.environ.update(USER='erin', HOME={home!r}, SHELL='/bin/sh')\n"
                    "os.execv(sys.argv[1], sys.argv[1:])\n")
        os.chmod(script, 0o755)
        self.t.start()
        self.deliver("erin", 1)
        self.t.wait_maildir(md, 1)
        settle(md)
        self.serve_pop(checker=script)
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        stamp = p.welcome.decode().split(" ", 1)[1]
        p.user("erin")
        p.pass_("pw")
        self.assertEqual(p.stat()[0], 1)
        p.quit()
        self.assertEqual(open(rec, "rb").read(), b"erin\0pw\0" + stamp.encode() + b"\0")
        # APOP: the digest travels in the password slot, with the same timestamp.
        p = poplib.POP3("127.0.0.1", self.port, timeout=20)
        stamp = p.welcome.decode().split(" ", 1)[1]
        p._shortcmd("APOP erin 0123456789abcdef0123456789abcdef")
        p.quit()
        self.assertEqual(open(rec, "rb").read(),
                         b"erin\0" + b"0123456789abcdef0123456789abcdef\0" + stamp.encode() + b"\0")

    # -- mpop -------------------------------------------------------------------
    def test_mpop_retrieves_and_deletes_mail_that_came_by_smtp(self):
        home = self.mail_user("frank")
        md = os.path.join(home, "Maildir")
        self.t.start()
        # The whole path: SMTP in, qmail-send, Maildir, POP3 out to a real client.
        self.deliver_smtp("frank@" + FQDN, 4, prefix="for mpop")
        self.t.wait_maildir(md, 4)
        self.assert_owned(md, "frank")
        self.t.wait_maildir(md, 4)
        settle(md)
        self.serve_pop()
        dest = os.path.join(self.t.base, "fetched")
        self.t.run("maildirmake", dest)
        conf = os.path.join(self.t.base, "mpoprc")
        with open(conf, "w") as f:
            f.write("defaults\n"
                    f"uidls_file {self.t.base}/mpop-uidls\n"
                    "account test\n"
                    "host 127.0.0.1\n"
                    f"port {self.port}\n"
                    f"user {self.login('frank')}\n"
                    f"password {PASSWORD}\n"
                    "auth user\n"
                    "tls off\n"
                    "received_header off\n"
                    f"delivery maildir {dest}\n")
        os.chmod(conf, 0o600)
        r = subprocess.run(["mpop", "-C", conf, "-q", "test"], capture_output=True, timeout=60,
                           env=dict(os.environ, HOME=self.t.base))
        self.assertEqual(r.returncode, 0, r.stderr.decode() + r.stdout.decode())
        got = []
        for sub in ("new", "cur"):
            for n in os.listdir(os.path.join(dest, sub)):
                got.append(open(os.path.join(dest, sub, n), "rb").read())
        self.assertEqual(len(got), 4)
        self.assertTrue(all(b"Subject: for mpop" in g for g in got))
        self.assertTrue(all(b"with SMTP; " in g for g in got))  # qmail-smtpd's Received line
        self.assertTrue(all(b"\n.leading dot\n" in g for g in got))
        wait_for(lambda: self.t.maildir_count(md) == 0, 10, what="server mailbox emptied by mpop")

    # -- the ISP guide's virtual POP boxes (seeds/004) -------------------------------
    def test_isp_virtual_domains(self):
        base = os.path.join(self.t.base, "home", "popmail", "e", "ex1")
        pop, dom = os.path.join(base, "POP"), os.path.join(base, "DOMAINS", "example.com")
        os.makedirs(pop)
        os.makedirs(dom)
        # The guide's popusr (uid 510 there) owns every box: a real account
        # in a system tree, the test user in a private one.
        if self.t.system:
            self.t.make_account("popusr", os.path.join(self.t.base, "home", "popusr"))
        uid, gid = self.t.ids("popusr")
        for box in ("ex1-0000", "ex1-0001", "ex1-0002"):
            self.t.run("maildirmake", os.path.join(pop, box))
            self.t.chown(os.path.join(pop, box), "popusr")  # chown -R popusr ex1-0000 ...
        self.t.control("virtualdomains", "example.com:example.com\n.example.com:example.com\n")
        self.t.control("rcpthosts", f"{FQDN}\nexample.com\n.example.com\n")
        self.t.assign.append(f"+example.com-:ex1:{uid}:{gid}:{dom}:-::")
        self.t.newu()
        for ext, text in (("-joe", os.path.join(pop, "ex1-0001") + "/\n"),
                          ("-ann", os.path.join(pop, "ex1-0002") + "/\n"),
                          ("-postmaster", os.path.join(pop, "ex1-0000") + "/\n"),
                          ("-default", "&postmaster@example.com\n")):
            dq = self.t.dot_qmail(dom, ext, text)
            if self.t.system:
                os.chown(dq, uid, gid)  # chown popusr .qmail-joe
        # The POP boxes: no system accounts, all owned by popusr.
        self.vpasswd([("joe@example.com", os.path.join(pop, "ex1-0001")),
                      ("ann@example.com", os.path.join(pop, "ex1-0002")),
                      ("postmaster@example.com", os.path.join(pop, "ex1-0000"))], owner="popusr")
        self.t.start()
        self.t.inject("To: joe@example.com\nSubject: for joe\n\nhi\n")
        self.t.inject("To: ann@Example.COM\nSubject: for ann\n\nhi\n")
        self.t.inject("To: postmaster@example.com\nSubject: for pm\n\nhi\n")
        self.t.inject("To: nobody@example.com\nSubject: for nobody\n\nhi\n")
        self.t.wait_maildir(os.path.join(pop, "ex1-0000"), 2)
        self.t.wait_maildir(os.path.join(pop, "ex1-0001"), 1)
        self.t.wait_maildir(os.path.join(pop, "ex1-0002"), 1)
        for box in ("ex1-0000", "ex1-0001", "ex1-0002"):
            settle(os.path.join(pop, box))
        self.assert_owned(os.path.join(pop, "ex1-0001"), "popusr")
        # HOME is the box itself, so qmail-pop3d's Maildir argument is "./".
        self.serve_pop(checker="checkvpw", maildir="./")

        def subjects(p):
            out = []
            for i in range(1, p.stat()[0] + 1):
                out += [l.decode() for l in p.retr(i)[1] if l.startswith(b"Subject:")]
            return sorted(out)
        p = self.pop("joe@example.com")
        self.assertEqual(subjects(p), ["Subject: for joe"])
        self.assert_pop3d_runs_as("popusr")
        p.quit()
        p = self.pop("ann%example.com")
        self.assertEqual(subjects(p), ["Subject: for ann"])
        p.quit()
        p = self.pop("Postmaster@Example.com")
        self.assertEqual(subjects(p), ["Subject: for nobody", "Subject: for pm"])
        p.quit()
        with self.assertRaises(poplib.error_proto):
            self.pop("joe@example.com", "ann's password?")

    # -- a big mailbox ------------------------------------------------------------------
    def test_ten_thousand_messages(self):
        home = self.mail_user("gina")
        md = os.path.join(home, "Maildir")
        n = 10000
        past = time.time() - 100
        for i in range(n):
            p = os.path.join(md, "new", f"{1600000000 + i}.M{i}P1.{FQDN},S=60")
            with open(p, "w") as f:
                f.write(f"Subject: number {i}\n\nbody of {i}\n")
            os.utime(p, (past + i / 1000, past + i / 1000))
        self.t.chown(md, "gina")
        self.serve_pop()
        p = self.pop(self.login("gina"))
        count, size = p.stat()
        self.assertEqual(count, n)
        self.assertEqual(len(p.list()[1]), n)
        uidls = [l.split()[1] for l in p.uidl()[1]]
        self.assertEqual(len(set(uidls)), n)
        # Numbered oldest first.
        for i in (1, 5000, n):
            lines = p.retr(i)[1]
            self.assertIn(f"Subject: number {i - 1}".encode(), lines)
        p.dele(n)
        self.assertEqual(p.stat()[0], n - 1)
        p.quit()
        wait_for(lambda: len(os.listdir(os.path.join(md, "cur"))) == n - 1, 20,
                 what="messages moved to cur/")
        self.assertEqual(os.listdir(os.path.join(md, "new")), [])
        self.t.wait_programs_done("qmail-popup")  # the session has ended


if __name__ == "__main__":
    import unittest
    unittest.main()
