"""The dial-up recipes end to end on loopback (seeds 000/001 AutoTURN, 004 the
ISP guide; spec/serialmail.md 6-7) and the FAQ's historical rules tools
tcpcontrol/tcpmakectl (spec/ucspi.md 3.4).

The ISP is 127.0.0.1; customers are 127.0.0.2 and 127.0.0.3, each running a
real SMTP server (aiosmtpd). The recipe steps are followed as written, in
both modes of the harness.  In a system tree (root, qmail's accounts):

  * /var/qmail is the test's system home, made by `make setup`;
  * the customer's IP 1.2.3.4 is 127.0.0.2, so .qmail-1:2:3:4-default is
    .qmail-127:0:0:2-default and virtualdomains says autoturn-127.0.0.2;
  * the customers listen on port 25, as in the recipe (on a free port with
    $MAILDIRSMTP_PORT, an evqmail addition, if something holds port 25 on
    127.0.0.2 or 127.0.0.3); the ISP's SMTP and Hello servers listen on
    free ports instead of 25 and 1789;
  * users/assign gets qmaild's uid and nofiles' gid, tcpserver -u/-g the
    same, `chgrp qmail` and `chown -R qmaild` are run; the Hello port's
    `autoturn` user and the ISP guide's `popusr` are login accounts the
    test makes.

In a private tree (unprivileged, single-user, doc/recipes.md lists the
substitutions) every account is the test user, customers listen on a free
port given by $MAILDIRSMTP_PORT, and the chgrp/chown steps are no-ops.
"""
import fcntl
import grp
import os
import shutil
import smtplib
import socket
import subprocess
import time
import unittest

import evq
from smtpsink import Recorder

try:
    from aiosmtpd.controller import Controller
    HAVE_AIOSMTPD = True
except ImportError:  # Debian's python3-aiosmtpd; run with /usr/bin/python3
    HAVE_AIOSMTPD = False

ISP = "127.0.0.1"
CUST = "127.0.0.2"
CUST2 = "127.0.0.3"
SCRIPTS = os.path.join(evq.SRC, "scripts")


class Customer(Recorder):
    """The customer's own SMTP server (smtpsink.Recorder): records messages,
    can refuse RCPT with `rcpt_code`, and can be slowed down (`delay`)."""

    def __init__(self, host, port):
        super().__init__()
        self.ctl = Controller(self, hostname=host, port=port)
        self.ctl.start()

    def stop(self):
        self.ctl.stop()


def port_free_on(port, *hosts):
    for h in hosts:
        with socket.socket() as s:
            try:
                s.bind((h, port))
            except OSError:
                return False
    return True


def common_port(*hosts):
    """A port free on every host (customers of one tcpserver share the
    $MAILDIRSMTP_PORT, as real customers share port 25)."""
    for _ in range(50):
        p = evq.free_port(hosts[0])
        if port_free_on(p, *hosts):
            return p
    raise AssertionError("no common free port")


def customer_port(t):
    """Port 25 where the test may listen there (root), else a free port."""
    if t.system and port_free_on(25, CUST, CUST2):
        return 25
    return common_port(CUST, CUST2)


def customer_port_env(port):
    """maildirsmtp's port for a customer that does not listen on 25."""
    return {} if port == 25 else {"MAILDIRSMTP_PORT": str(port)}


def files(md):
    return sorted(os.listdir(os.path.join(md, "new")) + os.listdir(os.path.join(md, "cur")))


def wait_aged(md):
    """maildirserial leaves files modified in the current second alone: wait
    (bounded, at most about a second) until the clock has passed their second."""
    def aged():
        names = [os.path.join(md, "new", n) for n in os.listdir(os.path.join(md, "new"))]
        newest = max((int(os.stat(p).st_mtime) for p in names), default=0)
        return int(time.time()) > newest
    evq.wait_for(aged, 5, what="maildir files older than the current second")


def smtp_from(host, port, source):
    """An SMTP session to the ISP from the customer's address."""
    return smtplib.SMTP(host, port, timeout=20, source_address=(source, 0))


def have_loopback_alias():
    try:
        with socket.socket() as s:
            s.bind((CUST, 0))
        return True
    except OSError:
        return False


@unittest.skipUnless(HAVE_AIOSMTPD, "python3-aiosmtpd is needed")
@unittest.skipUnless(have_loopback_alias(), "127.0.0.2 is not a local address")
class AutoTurnBase(evq.TreeTest):
    def setUp(self):
        super().setUp()
        self.cport = customer_port(self.t)
        self.autoturn = self.t.path("autoturn")
        self.deliver_as = "qmaild"

    def port_env(self):
        return customer_port_env(self.cport)

    def customer(self, host=CUST):
        c = Customer(host, self.cport)
        self.addCleanup(c.stop)
        return c

    def make_autoturn_user(self):
        """The security note's separate `autoturn` account (system trees)."""
        self.deliver_as = "autoturn"
        if self.t.system:
            self.t.make_account("autoturn", os.path.join(self.t.base, "home", "autoturn"))

    def assign_ids(self):
        """users/assign's uid and gid: qmaild's uid with the nofiles gid, or
        the autoturn account's own."""
        return self.t.ids(self.deliver_as, "nofiles" if self.deliver_as == "qmaild" else None)

    def make_autoturn_dir(self):
        # 1. mkdir /var/qmail/autoturn; chgrp qmail (no-op in a private tree); chmod 2755
        os.mkdir(self.autoturn)
        if self.t.system:
            os.chown(self.autoturn, -1, grp.getgrnam("qmail").gr_gid)
        os.chmod(self.autoturn, 0o2755)

    # Recipe steps 1-2.
    def setup_autoturn(self):
        self.make_autoturn_dir()
        # 2. users/assign, replacing 7770/2108 with the qmaild uid / nofiles gid.
        uid, gid = self.assign_ids()
        self.t.assign.append(f"+autoturn-:{self.deliver_as}:{uid}:{gid}:{self.autoturn}:-::")
        self.t.newu()

    # Recipe steps 5-7 for one customer IP.
    def add_customer(self, ip, domain="virt.dom"):
        t = self.t
        with open(t.path("control", "rcpthosts"), "a") as f:
            f.write(domain + "\n")
        with open(t.path("control", "virtualdomains"), "a") as f:
            f.write(f"{domain}:autoturn-{ip}\n")
        if t.send:
            t.signal(1)  # "give qmail-send a SIGHUP"
        # 7. cd autoturn; maildirmake IP; chown -R qmaild IP (no-op in a
        #    private tree); echo ./IP/ > .qmail-I:P-default; chmod 644
        t.run("maildirmake", ip, cwd=self.autoturn)
        t.chown(os.path.join(self.autoturn, ip), self.deliver_as)
        dq = os.path.join(self.autoturn, ".qmail-" + ip.replace(".", ":") + "-default")
        with open(dq, "w") as f:
            f.write(f"./{ip}/\n")
        os.chmod(dq, 0o644)
        return os.path.join(self.autoturn, ip)

    def flush_command(self, user_prog="maildirsmtp"):
        # The recipe's "cd /var/qmail/autoturn; exec setlock -nx ..." part.
        return (f"cd {self.autoturn}\n"
                f"exec setlock -nx $TCPREMOTEIP/seriallock \\\n"
                f"  {user_prog} $TCPREMOTEIP autoturn-$TCPREMOTEIP- $TCPREMOTEIP AutoTURN\n")

    # Recipe step 3: qmail-smtpd, then the flush, under tcpserver -v.
    def serve_autoturn(self):
        script = f"\n{self.t.bin}/qmail-smtpd\n" + self.flush_command()
        svc, port = self.t.serve("sh", "-c", script, host=ISP, opts=("-v", *self.t.daemon_opts()),
                                 env=self.port_env(), name="autoturn")
        return svc, port

    def send_to_isp(self, port, rcpt, body="hello customer\n", sender="bob@a.example"):
        """Some internet host (127.0.0.1 itself) sends mail for the customer."""
        with smtp_from(ISP, port, ISP) as s:
            s.sendmail(sender, [rcpt], f"From: {sender}\nTo: {rcpt}\nSubject: for you\n\n{body}")


class AutoTurnTest(AutoTurnBase):
    def setUp(self):
        super().setUp()
        self.setup_autoturn()
        self.t.start()
        self.md = self.add_customer(CUST)
        self.svc, self.port = self.serve_autoturn()

    def queued(self, n=1):
        self.t.wait_maildir(self.md, n)
        wait_aged(self.md)

    def test_mail_waits_for_the_customer_session(self):
        cust = self.customer()
        self.send_to_isp(self.port, "joe@virt.dom", body="first\n")
        self.queued()
        # The sender's session (from 127.0.0.1, no maildir of that name) ends
        # and its flush finds nothing: setlock -x skips it silently.
        self.svc.wait_log(r"tcpserver: end \d+ status 0")
        self.assertEqual(cust.messages, [])
        self.assertEqual(len(files(self.md)), 1)
        # The customer talks SMTP to the ISP (any client, no ETRN) and quits.
        with smtp_from(ISP, self.port, CUST) as s:
            self.assertEqual(s.ehlo()[0], 250)
        evq.wait_for(lambda: cust.messages, 20, what=lambda: "delivery to the customer\n" + self.svc.log())
        sender, rcpts, body = cust.messages[0]
        self.assertEqual((sender, rcpts), ("bob@a.example", ["joe@virt.dom"]))
        self.assertIn(b"first", body)
        self.assertNotIn(b"Delivered-To: autoturn-", body)  # the prefix is stripped
        evq.wait_for(lambda: files(self.md) == [], 20, what="an empty maildir")
        # maildirsmtp reports to tcpserver's log.
        self.svc.wait_log(r"maildirserial: info: new/\S+ succeeded: 127\.0\.0\.2 said: 250 accepted")
        self.assertIn("tcpserver: ok ", self.svc.log())

    def test_dropped_connection_triggers_too(self):
        cust = self.customer()
        self.send_to_isp(self.port, "ann@virt.dom")
        self.queued()
        # No QUIT: the customer just drops its connection after the greeting.
        with socket.socket() as s:
            s.bind((CUST, 0))
            s.connect((ISP, self.port))
            self.assertTrue(s.recv(512).startswith(b"220 "))
        evq.wait_for(lambda: cust.messages, 20, what=lambda: "delivery after a drop\n" + self.svc.log())
        self.assertEqual(cust.rcpts(), ["ann@virt.dom"])

    # spec/serialmail.md 6: "the maildirsmtp run must not hold the client's
    # SMTP connection open". After qmail-smtpd exits, fd 0/1 of the sh -c
    # chain are still the socket, and maildirserial keeps them for its whole
    # run, so the customer would see the close only when the flush is over;
    # maildirserial therefore points its unused fd 0/1 at /dev/null at start.
    def test_connection_closes_before_the_flush(self):
        cust = self.customer()
        self.send_to_isp(self.port, "joe@virt.dom")
        self.queued()
        cust.delay = 3.0
        with socket.socket() as s:
            s.bind((CUST, 0))
            s.connect((ISP, self.port))
            s.settimeout(20)
            self.assertTrue(s.recv(512).startswith(b"220 "))
            s.sendall(b"QUIT\r\n")
            self.assertTrue(s.recv(512).startswith(b"221 "))
            self.assertEqual(s.recv(512), b"")  # the server's close
            closed_early = not cust.messages
        evq.wait_for(lambda: cust.messages, 20, what=lambda: "delivery\n" + self.svc.log())
        self.assertTrue(closed_early, "the connection stayed open during the flush")

    def test_overlapping_sessions_deliver_once(self):
        cust = self.customer()
        for i in range(4):
            self.send_to_isp(self.port, f"u{i}@virt.dom")
        self.queued(4)
        cust.delay = 1.0  # the first flush takes about four seconds
        s1 = smtp_from(ISP, self.port, CUST)
        s2 = smtp_from(ISP, self.port, CUST)
        s1.ehlo()
        s2.ehlo()
        s1.quit()
        evq.wait_for(lambda: cust.sessions >= 1, 20, what="the first flush's session")
        s2.quit()  # while the first flush still holds 127.0.0.2/seriallock
        # The second session's process (setlock -nx finding the lock busy)
        # ends while the first flush is still delivering: four senders plus s2.
        self.svc.wait_log(r"tcpserver: end \d+ status 0", count=5)
        self.assertLess(len(cust.messages), 4)
        evq.wait_for(lambda: len(cust.messages) >= 4, 30, what=lambda: "four deliveries\n" + self.svc.log())
        # Both sessions (and the four senders') have ended: nothing runs any more.
        self.svc.wait_log(r"tcpserver: end \d+ status", count=6)
        self.assertEqual(cust.rcpts(), [f"u{i}@virt.dom" for i in range(4)])
        self.assertEqual(cust.sessions, 1)
        self.assertEqual(files(self.md), [])
        self.assertTrue(os.path.exists(os.path.join(self.md, "seriallock")))

    def test_refusing_customer_keeps_the_message(self):
        cust = self.customer()
        cust.rcpt_code = "451 mailbox busy, try later"
        self.send_to_isp(self.port, "joe@virt.dom")
        self.queued()
        with smtp_from(ISP, self.port, CUST) as s:
            s.ehlo()
        self.svc.wait_log(r"new/\S+ failed temporarily: 127\.0\.0\.2 said: 451 mailbox busy")
        self.svc.wait_log(r"tcpserver: end \d+ status", count=2)
        self.assertEqual(cust.messages, [])
        self.assertEqual(len(files(self.md)), 1)
        self.t.wait_queue_empty()  # no bounce
        # Next time the customer takes it.
        cust.rcpt_code = None
        with smtp_from(ISP, self.port, CUST) as s:
            s.ehlo()
        evq.wait_for(lambda: cust.messages, 20, what=lambda: "delivery on retry\n" + self.svc.log())
        evq.wait_for(lambda: files(self.md) == [], 20, what="an empty maildir")

    def test_customer_sends_and_receives_in_one_session(self):
        # The customer's own outgoing mail goes through the same qmail-smtpd;
        # rcpthosts lets it mail virt.dom (itself) only.
        cust = self.customer()
        self.send_to_isp(self.port, "joe@virt.dom", body="inbound\n")
        self.queued()
        with smtp_from(ISP, self.port, CUST) as s:
            self.assertEqual(s.ehlo()[0], 250)
            with self.assertRaises(smtplib.SMTPRecipientsRefused):
                s.sendmail("me@virt.dom", ["x@elsewhere.example"], "Subject: no relay\n\nx\n")
        evq.wait_for(lambda: cust.messages, 20, what=lambda: "delivery\n" + self.svc.log())
        self.assertEqual(cust.rcpts(), ["joe@virt.dom"])


class AutoTurnPw2uTest(AutoTurnBase):
    def test_users_append_with_qmail_pw2u(self):
        """Step 2's exception: the line goes to users/append, qmail-pw2u
        writes users/assign, qmail-newu compiles it."""
        t = self.t
        self.make_autoturn_dir()
        uid, gid = self.assign_ids()
        with open(t.path("users", "append"), "w") as f:
            f.write(f"+autoturn-:qmaild:{uid}:{gid}:{self.autoturn}:-::\n")
        auid, agid = t.ids("alias")
        passwd = f"alias:*:{auid}:{agid}::{t.alias_home()}:/bin/false\n"
        p = t.run("qmail-pw2u", input=passwd.encode())
        with open(t.path("users", "assign"), "wb") as f:
            f.write(p.stdout)
        self.assertIn(f"+autoturn-:qmaild:{uid}:{gid}:{self.autoturn}:-::\n.\n".encode(), p.stdout)
        t.run("qmail-newu")
        t.start()
        md = self.add_customer(CUST)
        svc, port = self.serve_autoturn()
        cust = self.customer()
        self.send_to_isp(port, "pat@virt.dom")
        t.wait_maildir(md, 1)
        wait_aged(md)
        with smtp_from(ISP, port, CUST) as s:
            s.ehlo()
        evq.wait_for(lambda: cust.messages, 20, what=lambda: "delivery\n" + svc.log())
        self.assertEqual(cust.rcpts(), ["pat@virt.dom"])


class HelloPortTest(AutoTurnBase):
    def test_hello_connection_triggers_delivery(self):
        """The security note: qmail-smtpd stays plain; a separate `autoturn`
        user runs only the flush on the Hello port. The README's command is
        `tcpserver -v -u <autoturn uid> -g <gid> 0 1789 sh -c '...'`: in a
        system tree the autoturn account is real, in a private one -u/-g
        carry the test user's ids; the port is a free one instead of 1789."""
        t = self.t
        self.make_autoturn_user()
        self.setup_autoturn()
        t.start()
        md = self.add_customer(CUST)
        _, smtp_port = t.serve("qmail-smtpd", host=ISP, opts=("-v", *t.daemon_opts()), name="smtpd")
        uid, gid = t.ids("autoturn")
        hello, hport = t.serve("sh", "-c", self.flush_command(), host=ISP,
                               opts=("-v", "-u", str(uid), "-g", str(gid)),
                               env=self.port_env(), name="hello")
        cust = self.customer()
        self.send_to_isp(smtp_port, "joe@virt.dom")
        t.wait_maildir(md, 1)
        wait_aged(md)
        self.assertEqual(cust.messages, [])
        # The Hello protocol: connect, disconnect at once.
        with socket.socket() as s:
            s.bind((CUST, 0))
            s.connect((ISP, hport))
        evq.wait_for(lambda: cust.messages, 20, what=lambda: "delivery after hello\n" + hello.log())
        self.assertEqual(cust.rcpts(), ["joe@virt.dom"])
        evq.wait_for(lambda: files(md) == [], 20, what="an empty maildir")
        # A hello from a host without a maildir does nothing, silently.
        with socket.socket() as s:
            s.connect((ISP, hport))
        hello.wait_log(r"tcpserver: end \d+ status 0", count=2)
        self.assertNotIn("fatal", hello.log())


@unittest.skipUnless(HAVE_AIOSMTPD, "python3-aiosmtpd is needed")
@unittest.skipUnless(have_loopback_alias(), "127.0.0.2 is not a local address")
class IspCronTest(evq.TreeTest):
    """The ISP guide: /home/serialmail/<customer>/{RELAYHOST,Maildir,.qmail-default},
    users/assign `+<customer>-`, virtualdomains `<customer>:<customer>`, and
    a master script from cron (scripts/serialmail-cron)."""

    def setUp(self):
        super().setUp()
        t = self.t
        shutil.copy(os.path.join(SCRIPTS, "serialmail-cron"), os.path.join(t.bin, "serialmail-cron"))
        os.chmod(os.path.join(t.bin, "serialmail-cron"), 0o755)
        self.top = os.path.join(t.base, "home", "serialmail")
        os.makedirs(self.top)
        self.cport = customer_port(t)
        self.dirs = {}
        # The guide's popusr (uid 510 there) owns the customers' maildirs.
        if t.system:
            t.make_account("popusr", os.path.join(t.base, "home", "popusr"))
        uid, gid = t.ids("popusr")
        for dom, ip in (("some.example.com", CUST), ("other.example.net", CUST2)):
            d = os.path.join(self.top, dom)
            os.mkdir(d)
            # The guide: RELAYHOST, maildirmake ./Maildir, echo ./Maildir/ > .qmail-default
            with open(os.path.join(d, "RELAYHOST"), "w") as f:
                f.write(ip + "\n")  # a host name in the guide; our customers are addresses
            # chown -R popusr ./Maildir; chown popusr .qmail-default
            t.run("maildirmake", "./Maildir", cwd=d)
            t.chown(os.path.join(d, "Maildir"), "popusr")
            t.dot_qmail(d, "-default", "./Maildir/\n")
            if t.system:
                os.chown(os.path.join(d, ".qmail-default"), uid, gid)
            t.assign.append(f"+{dom}-:ex1:{uid}:{gid}:{d}:-::")
            with open(t.path("control", "rcpthosts"), "a") as f:
                f.write(dom + "\n")
            with open(t.path("control", "virtualdomains"), "a") as f:
                f.write(f"{dom}:{dom}\n")
            self.dirs[dom] = d
        t.newu()
        # A directory without RELAYHOST is not a customer.
        os.mkdir(os.path.join(self.top, "lost+found"))
        t.start()

    def md(self, dom):
        return os.path.join(self.dirs[dom], "Maildir")

    def cron(self):
        return self.t.run("serialmail-cron", self.top,
                          env={**customer_port_env(self.cport), "SERIALMAIL_GRACE": "0"},
                          check=False, timeout=60)

    def queue(self, rcpt, dom):
        before = self.t.maildir_count(self.md(dom))
        self.t.inject(f"From: bob@a.example\nTo: {rcpt}\nSubject: cron\n\nfor {rcpt}\n",
                      "-f", "bob@a.example", rcpt)
        self.t.wait_maildir(self.md(dom), before + 1)
        wait_aged(self.md(dom))

    def test_master_script_delivers_every_customer(self):
        c1 = Customer(CUST, self.cport)
        self.addCleanup(c1.stop)
        c2 = Customer(CUST2, self.cport)
        self.addCleanup(c2.stop)
        self.queue("joe@some.example.com", "some.example.com")
        self.queue("ann@other.example.net", "other.example.net")
        self.queue("pat@other.example.net", "other.example.net")
        p = self.cron()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(c1.rcpts(), ["joe@some.example.com"])
        self.assertEqual(c2.rcpts(), ["ann@other.example.net", "pat@other.example.net"])
        self.assertEqual(files(self.md("some.example.com")), [])
        self.assertEqual(files(self.md("other.example.net")), [])
        self.assertFalse(os.path.exists(os.path.join(self.top, "lost+found", "RELAYHOST")))
        # Nothing queued: no connection at all (empty maildirs are skipped).
        p = self.cron()
        self.assertEqual((p.returncode, p.stderr), (0, b""))
        self.assertEqual((c1.sessions, c2.sessions), (1, 1))

    def test_running_delivery_is_skipped(self):
        c1 = Customer(CUST, self.cport)
        self.addCleanup(c1.stop)
        c2 = Customer(CUST2, self.cport)
        self.addCleanup(c2.stop)
        self.queue("joe@some.example.com", "some.example.com")
        self.queue("ann@other.example.net", "other.example.net")
        # A transfer to some.example.com is "still underway": its RELAYHOST is locked.
        fd = os.open(os.path.join(self.dirs["some.example.com"], "RELAYHOST"), os.O_WRONLY | os.O_APPEND)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            p = self.cron()
            self.assertEqual((p.returncode, p.stderr.count(b"fatal")), (0, 0), p.stderr)
            self.assertEqual((c1.messages, c2.rcpts()), ([], ["ann@other.example.net"]))
            self.assertEqual(len(files(self.md("some.example.com"))), 1)
        finally:
            os.close(fd)
        p = self.cron()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(c1.rcpts(), ["joe@some.example.com"])
        self.assertEqual(len(c2.messages), 1)

    def test_unreachable_customer_keeps_mail(self):
        # Customer 127.0.0.2 is offline (nothing listens): mail stays, the
        # other customer is served.
        c2 = Customer(CUST2, self.cport)
        self.addCleanup(c2.stop)
        self.queue("joe@some.example.com", "some.example.com")
        self.queue("ann@other.example.net", "other.example.net")
        p = self.cron()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(c2.rcpts(), ["ann@other.example.net"])
        self.assertEqual(len(files(self.md("some.example.com"))), 1)
        self.t.wait_queue_empty()  # no bounce for an offline customer
        # Online again: the next cron run delivers.
        c1 = Customer(CUST, self.cport)
        self.addCleanup(c1.stop)
        self.assertEqual(self.cron().returncode, 0)
        self.assertEqual(c1.rcpts(), ["joe@some.example.com"])


class TcpControlTest(evq.TreeTest):
    """FAQ 5.4 with the historical names: tcpmakectl compiles /etc/tcp.smtp,
    tcpcontrol goes before qmail-smtpd in the tcpserver line."""

    def rules(self, text):
        src = os.path.join(self.t.base, "tcp.smtp")
        with open(src, "w") as f:
            f.write(text)
        cdb = os.path.join(self.t.base, "tcp.smtp.cdb")
        with open(src, "rb") as f:
            p = subprocess.run([os.path.join(self.t.bin, "tcpmakectl"), cdb,
                                os.path.join(self.t.base, "tcp.smtp.tmp")],
                               stdin=f, capture_output=True, env=self.t.env(), timeout=30)
        return p, cdb

    def tcpcontrol(self, cdb, ip, *prog, host=None):
        env = self.t.env(TCPREMOTEIP=ip, TCPREMOTEHOST=host)
        return subprocess.run([os.path.join(self.t.bin, "tcpcontrol"), cdb, *prog],
                              capture_output=True, env=env, timeout=30)

    def test_faq_5_4_relaying(self):
        p, cdb = self.rules('1.2.3.6:allow,RELAYCLIENT=""\n127.:allow,RELAYCLIENT=""\n'
                            '10.0.0.:deny\n=fix.example:allow,RELAYCLIENT="@fixme"\n')
        self.assertEqual(p.returncode, 0, p.stderr)
        # The same cdb as tcprules writes.
        p2 = subprocess.run([os.path.join(self.t.bin, "tcprules"), cdb + "2", cdb + "2.tmp"],
                            input=open(os.path.join(self.t.base, "tcp.smtp"), "rb").read(),
                            capture_output=True, env=self.t.env(), timeout=30)
        self.assertEqual(p2.returncode, 0)
        self.assertEqual(open(cdb, "rb").read(), open(cdb + "2", "rb").read())
        show = ("sh", "-c", 'echo "${RELAYCLIENT-unset}"')
        self.assertEqual(self.tcpcontrol(cdb, "127.0.0.1", *show).stdout, b"\n")
        self.assertEqual(self.tcpcontrol(cdb, "1.2.3.6", *show).stdout, b"\n")
        self.assertEqual(self.tcpcontrol(cdb, "1.2.3.7", *show).stdout, b"unset\n")
        self.assertEqual(self.tcpcontrol(cdb, "1.2.3.7", *show, host="fix.example").stdout, b"@fixme\n")
        d = self.tcpcontrol(cdb, "10.0.0.5", *show)
        self.assertEqual((d.returncode, d.stdout), (100, b""))
        # ucspi-tcp's tcprules writes a cdb tcpcontrol reads the same way.
        if os.path.exists("/usr/bin/tcprules"):
            deb = os.path.join(self.t.base, "deb.cdb")
            with open(os.path.join(self.t.base, "tcp.smtp"), "rb") as f:
                subprocess.run(["/usr/bin/tcprules", deb, deb + ".tmp"], stdin=f, check=True, timeout=30)
            self.assertEqual(self.tcpcontrol(deb, "1.2.3.7", *show, host="fix.example").stdout, b"@fixme\n")
            self.assertEqual(self.tcpcontrol(deb, "10.0.0.5", *show).returncode, 100)
        # A missing cdb drops the connection like tcpserver -x; so does bad usage.
        m = self.tcpcontrol(cdb + ".none", "127.0.0.1", *show)
        self.assertEqual(m.returncode, 111)
        self.assertIn(b"tcpcontrol: fatal: unable to read", m.stderr)
        self.assertEqual(self.tcpcontrol(cdb, "127.0.0.1").returncode, 100)
        # A bad rule: exit 100, the old cdb stays.
        p, _ = self.rules('1.2.3.4:allow,RELAYCLIENT=""\n1.2.3.5:allow,X=unquoted\n')
        self.assertEqual(p.returncode, 100)
        self.assertIn(b"tcpmakectl: fatal: unable to parse this line", p.stderr)
        self.assertEqual(open(cdb, "rb").read(), open(cdb + "2", "rb").read())

    def test_before_qmail_smtpd_under_tcpserver(self):
        """`tcpserver ... tcpcontrol /etc/tcp.smtp.cdb /var/qmail/bin/qmail-smtpd`:
        127.0.0.2 may relay, 127.0.0.3 may not, 127.0.0.4 is refused."""
        if not have_loopback_alias():
            self.skipTest("127.0.0.2 is not a local address")
        _, cdb = self.rules('127.0.0.2:allow,RELAYCLIENT=""\n127.0.0.4:deny\n')
        self.t.start()
        svc, port = self.t.serve("tcpcontrol", cdb, os.path.join(self.t.bin, "qmail-smtpd"),
                                 opts=("-v", "-H", "-R"), host="0", name="tcpcontrol")
        msg = "From: a@x.example\nTo: b@far.example\nSubject: relay\n\nr\n"
        with smtp_from("127.0.0.1", port, "127.0.0.2") as s:
            self.assertEqual(s.sendmail("a@x.example", ["b@far.example"], msg), {})
        with smtp_from("127.0.0.1", port, "127.0.0.3") as s:
            with self.assertRaises(smtplib.SMTPRecipientsRefused):
                s.sendmail("a@x.example", ["b@far.example"], msg)
        with socket.socket() as s:
            s.bind(("127.0.0.4", 0))
            s.connect(("127.0.0.1", port))
            s.settimeout(20)
            self.assertEqual(s.recv(512), b"")  # closed without a greeting
        svc.wait_log(r"tcpserver: end \d+ status 25600")


if __name__ == "__main__":
    unittest.main()
