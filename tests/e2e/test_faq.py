"""The qmail FAQ (seeds/002) recipes, each followed verbatim: one test per FAQ
section, named after it.  They run against a private tree and (tests/run as
root, EVQ_MODE=system) against a root-installed system tree with real login
users, where ~alias is the alias account's home.  Programs that the recipes
call but that do not exist here (uux, procmail) are stand-ins that record
what they were given."""
import os
import re
import signal
import stat
import time

import evq
from evq import wait_for

FQDN = evq.FQDN


def message(subject, to=None, body="body text\n", extra=""):
    head = f"Subject: {subject}\n" + (f"To: {to}\n" if to else "") + extra
    return (head + "\n" + body).encode()


def maildir_files(path):
    """The raw bytes of every message in a Maildir (new/ and cur/)."""
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(path, sub)
        for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            with open(os.path.join(d, n), "rb") as f:
                out.append(f.read().decode("latin-1"))
    return out


def header(msg, name):
    """The first value of a header field of a message text (unfolded)."""
    head = msg.split("\n\n", 1)[0]
    m = re.search(rf"^{name}:[ \t]*(.*(?:\n[ \t].*)*)", head, re.M | re.I)
    return m.group(1).replace("\n", " ").strip() if m else None


def stand_in(path, record_dir):
    """A shell script that records its arguments (one per line) and stdin
    into record_dir, which any delivering user may write."""
    os.chmod(record_dir, 0o1777)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                f"d={record_dir}\n"
                'for a in "$@"; do printf "%s\\n" "$a"; done > "$d/args.tmp"\n'
                'cat > "$d/stdin.tmp"\n'
                'mv "$d/stdin.tmp" "$d/stdin"; mv "$d/args.tmp" "$d/args"\n')
    os.chmod(path, 0o755)


class FaqTest(evq.TreeTest):

    def wait(self, pred, what, timeout=20):
        """wait_for, with qmail-send's log as it is at the deadline."""
        try:
            return wait_for(pred, timeout, what=what)
        except AssertionError as e:
            raise AssertionError(f"{e}\n--- log ---\n{self.t.log()[-3000:]}") from None

    def ids(self):
        return [int(n) for n in re.findall(r"new msg (\d+)", self.t.log())]

    def info_path(self, n):
        return self.t.path("queue", "info", str(n % 23), str(n))

    def append_control(self, name, line):
        p = self.t.path("control", name)
        old = open(p).read() if os.path.exists(p) else ""
        if old and not old.endswith("\n"):
            old += "\n"
        self.t.control(name, old + line + "\n")
        os.chmod(p, 0o644)

    def queued(self, kind):
        """Files below queue/<kind>/ (all split subdirectories)."""
        q = self.t.path("queue", kind)
        return [os.path.join(q, s, n) for s in os.listdir(q) for n in os.listdir(os.path.join(q, s))]

    # -- 1. Controlling the appearance of outgoing messages ------------------

    def test_faq_1_1_host_masquerading(self):
        # Answer: echo af.mil > /var/qmail/control/defaulthost; chmod 644 ...
        self.t.control("defaulthost", "af.mil\n")
        os.chmod(self.t.path("control", "defaulthost"), 0o644)
        # "When joe sends a message to fred": what qmail-inject makes of it.
        p = self.t.inject(message("hello", to="fred"), "-n", env={"USER": "joe", "LOGNAME": "joe"})
        out = p.stdout.decode()
        self.assertEqual(header(out, "From"), "joe@af.mil", out)
        self.assertEqual(header(out, "To"), "fred@af.mil", out)
        # No host name in the addresses (the Message-ID still names idhost,
        # which defaults to me, as in qmail).
        for field in ("From", "To", "Return-Path"):
            self.assertNotIn(FQDN, header(out, field) or "")
        # And delivered: af.mil is this host's mail domain (a hub as in 3.1).
        self.append_control("locals", "af.mil")
        fred = self.t.add_user("fred")
        self.t.start()
        self.t.inject(message("hello", to="fred"), env={"USER": "joe", "LOGNAME": "joe"})
        [m] = [str(x) for x in self.t.wait_maildir(os.path.join(fred, "Maildir"))]
        self.assertEqual(header(m, "From"), "joe@af.mil")
        self.assertEqual(header(m, "To"), "fred@af.mil")
        self.assertEqual(header(m, "Return-Path"), "<joe@af.mil>")
        self.assertEqual(header(m, "Delivered-To"), "fred@af.mil")

    def test_faq_1_2_user_masquerading(self):
        env = {"USER": "god", "LOGNAME": "god", "MAILHOST": "af.mil", "MAILUSER": "boss"}
        out = self.t.inject(message("a"), "-n", "x@y.example", env=env).stdout.decode()
        self.assertEqual(header(out, "From"), "boss@af.mil", out)
        # A From supplied by the MUA stays ...
        mua = message("b", extra="From: god@heaven.af.mil\n")
        out = self.t.inject(mua, "-n", "x@y.example", env=env).stdout.decode()
        self.assertEqual(header(out, "From"), "god@heaven.af.mil", out)
        # ... unless QMAILINJECT=f is in the environment too.
        out = self.t.inject(mua, "-n", "x@y.example", env=dict(env, QMAILINJECT="f")).stdout.decode()
        self.assertEqual(header(out, "From"), "boss@af.mil", out)
        self.assertNotIn("god@heaven.af.mil", out)
        # The envelope sender follows: bounces would go to boss@af.mil.
        me = self.t.add_user("me")
        self.t.start()
        self.t.inject(mua, f"me@{FQDN}", env=dict(env, QMAILINJECT="f"))
        [m] = [str(x) for x in self.t.wait_maildir(os.path.join(me, "Maildir"))]
        self.assertEqual(header(m, "From"), "boss@af.mil")
        self.assertEqual(header(m, "Return-Path"), "<boss@af.mil>")

    # -- 2. Routing outgoing messages ----------------------------------------

    def test_faq_2_1_send_local_messages_to_another_host(self):
        self.append_control("locals", "af.mil")
        self.t.control("concurrencyremote", "0\n")   # hold remote mail in the queue
        boss = self.t.add_user("boss")
        self.t.start()
        self.t.inject(message("while local"), "boss@af.mil")
        self.t.wait_maildir(os.path.join(boss, "Maildir"))
        # Answer: Remove af.mil from control/locals; give qmail-send a HUP.
        self.t.control("locals", f"{FQDN}\nlocalhost\n")
        self.t.signal(signal.SIGHUP)
        self.t.inject(message("after HUP"), "boss@af.mil")
        self.wait(lambda: self.queued("remote"), "a file in queue/remote")
        self.assertEqual(self.t.maildir_count(os.path.join(boss, "Maildir")), 1)
        q = self.t.run("qmail-qread").stdout.decode()
        self.assertRegex(q, r"\n?\tremote\tboss@af\.mil\n", q)
        self.assertRegex(q, r"#\d+  \d+  <", q)

    def test_faq_2_3_outgoing_mail_through_uucp(self):
        rec = os.path.join(self.t.base, "uux-record")
        os.mkdir(rec)
        uux = os.path.join(self.t.base, "uux")     # stands in for /usr/bin/uux
        stand_in(uux, rec)
        self.t.control("virtualdomains", ":alias-uucp\n")
        alias = self.t.alias_home()
        self.t.dot_qmail(alias, "-uucp-default",
                         f'|preline -df {uux} - -r -gC -a"$SENDER" gonzo!rmail "($EXT2@$HOST)"\n')
        self.t.start()
        self.t.inject(message("via uucp", to="joe@far.host"), "-fsender@" + FQDN, "joe@far.host")
        self.wait(lambda: os.path.exists(os.path.join(rec, "args")), "uux ran")
        args = open(os.path.join(rec, "args")).read().split("\n")[:-1]
        self.assertEqual(args, ["-", "-r", "-gC", f"-asender@{FQDN}", "gonzo!rmail", "(joe@far.host)"])
        data = open(os.path.join(rec, "stdin"), encoding="latin-1").read()
        # -df: no From_ line, no Delivered-To; Return-Path stays.
        self.assertTrue(data.startswith(f"Return-Path: <sender@{FQDN}>\n"), data[:200])
        self.assertNotIn("Delivered-To:", data)
        self.assertIn("Subject: via uucp\n", data)
        self.assertTrue(data.endswith("\nbody text\n"), data[-200:])
        self.t.wait_log(r"delivery \d+: success: ", what="uucp delivery success")

    # -- 3. Routing incoming messages by host --------------------------------

    def test_faq_3_1_receive_mail_for_another_host_name(self):
        me = self.t.add_user("me")
        self.t.start()
        # Answer: Add af.mil to control/locals and to control/rcpthosts; HUP.
        self.append_control("locals", "af.mil")
        self.append_control("rcpthosts", "af.mil")
        self.t.signal(signal.SIGHUP)
        self.t.inject(message("for af.mil"), "me@af.mil")
        [m] = [str(x) for x in self.t.wait_maildir(os.path.join(me, "Maildir"))]
        self.assertEqual(header(m, "Delivered-To"), "me@af.mil")

    def test_faq_3_2_virtual_domain(self):
        self.t.control("virtualdomains", "nowhere.mil:bob\n")
        self.append_control("rcpthosts", "nowhere.mil")
        bob = self.t.add_user("bob")
        self.t.dot_qmail(bob, "-default", "./Maildir/\n")
        self.t.maildirmake(os.path.join(bob, "info"))
        self.t.dot_qmail(bob, "-info", "./info/\n")
        self.t.start()
        for who in ("root", "postmaster", "whatever", "info"):
            self.t.inject(message(f"to {who}"), f"{who}@nowhere.mil")
        msgs = self.t.wait_maildir(os.path.join(bob, "Maildir"), count=3)
        info = self.t.wait_maildir(os.path.join(bob, "info"), count=1)
        self.t.wait_queue_empty()
        got = sorted(header(str(m), "Delivered-To") for m in msgs)
        self.assertEqual(got, ["bob-postmaster@nowhere.mil", "bob-root@nowhere.mil",
                               "bob-whatever@nowhere.mil"])
        self.assertEqual([header(str(m), "Delivered-To") for m in info], ["bob-info@nowhere.mil"])
        self.assertEqual(len(maildir_files(os.path.join(bob, "Maildir"))), 3)

    def test_faq_3_3_several_virtual_domains_for_one_user(self):
        self.t.control("virtualdomains", "nowhere.mil:bob-nowhere\neverywhere.org:bob-everywhere\n")
        self.append_control("rcpthosts", "nowhere.mil")
        self.append_control("rcpthosts", "everywhere.org")
        bob = self.t.add_user("bob")
        for d in ("nowhere", "everywhere", "nowhere-info"):
            self.t.maildirmake(os.path.join(bob, d))
        self.t.dot_qmail(bob, "-nowhere-default", "./nowhere/\n")
        self.t.dot_qmail(bob, "-everywhere-default", "./everywhere/\n")
        self.t.dot_qmail(bob, "-nowhere-info", "./nowhere-info/\n")
        self.t.start()
        self.t.inject(message("n"), "joe@nowhere.mil")
        self.t.inject(message("e"), "joe@everywhere.org")
        self.t.inject(message("i"), "info@nowhere.mil")
        [n] = self.t.wait_maildir(os.path.join(bob, "nowhere"))
        [e] = self.t.wait_maildir(os.path.join(bob, "everywhere"))
        [i] = self.t.wait_maildir(os.path.join(bob, "nowhere-info"))
        self.t.wait_queue_empty()
        self.assertEqual(header(str(n), "Delivered-To"), "bob-nowhere-joe@nowhere.mil")
        self.assertEqual(header(str(e), "Delivered-To"), "bob-everywhere-joe@everywhere.org")
        self.assertEqual(header(str(i), "Delivered-To"), "bob-nowhere-info@nowhere.mil")
        self.assertEqual(self.t.maildir_count(os.path.join(bob, "Maildir")), 0)

    # -- 4. Routing incoming messages by user --------------------------------

    def test_faq_4_2_mailing_list(self):
        me = self.t.add_user("me")
        alice = self.t.add_user("alice")
        carol = self.t.add_user("carol")
        sender = self.t.add_user("sender")
        # Put a list of addresses into ~me/.qmail-sos, one per line; one
        # member is an unknown local user, so its delivery bounces.
        self.t.dot_qmail(me, "-sos", f"alice@{FQDN}\ncarol@{FQDN}\nnosuchuser@{FQDN}\n")
        # touch ~me/.qmail-sos-owner so that bounces come back to you.
        self.t.dot_qmail(me, "-sos-owner", "")
        self.t.start()
        self.t.inject(message("to the list", to=f"me-sos@{FQDN}"), f"-fsender@{FQDN}", f"me-sos@{FQDN}")
        [a] = [str(x) for x in self.t.wait_maildir(os.path.join(alice, "Maildir"))]
        self.t.wait_maildir(os.path.join(carol, "Maildir"))
        # The bounce for nosuchuser goes to me-sos-owner, i.e. ~me/Maildir.
        [b] = [str(x) for x in self.t.wait_maildir(os.path.join(me, "Maildir"))]
        self.t.wait_queue_empty()
        self.assertEqual(header(a, "Return-Path"), f"<me-sos-owner@{FQDN}>")
        self.assertIn(f"Delivered-To: me-sos@{FQDN}\n", a)
        self.assertEqual(header(a, "Subject"), "to the list")
        self.assertEqual(header(b, "Subject"), "failure notice")
        self.assertEqual(header(b, "To"), f"me-sos-owner@{FQDN}")
        self.assertIn(f"<nosuchuser@{FQDN}>:\n", b)
        self.assertIn("Sorry, no mailbox here by that name. (#5.1.1)", b)
        self.assertIn("Subject: to the list", b)
        # The original sender hears nothing of it.
        self.assertEqual(self.t.maildir_count(os.path.join(sender, "Maildir")), 0)

    def test_faq_4_4_procmail(self):
        me = self.t.add_user("me")
        sender = f"sender@{FQDN}"
        stubs = os.path.join(self.t.base, "stubs")
        rec = os.path.join(self.t.base, "procmail-record")
        os.mkdir(stubs)
        os.mkdir(rec)
        stand_in(os.path.join(stubs, "procmail"), rec)
        # procmail is in qmail-start's PATH here, so the line is verbatim.
        self.t.dot_qmail(me, "", "| preline procmail\n")
        self.t.start(extra_env={"PATH": f"{self.t.bin}:{stubs}:/usr/bin:/bin"})
        self.t.inject(message("for procmail", to=f"me@{FQDN}"), f"-f{sender}", f"me@{FQDN}")
        self.wait(lambda: os.path.exists(os.path.join(rec, "stdin")), "procmail ran")
        data = open(os.path.join(rec, "stdin"), encoding="latin-1").read()
        lines = data.split("\n")
        self.assertRegex(lines[0], rf"^From {re.escape(sender)} [A-Z][a-z]{{2}} [A-Z][a-z]{{2}} "
                                   r"[ \d]\d \d\d:\d\d:\d\d \d{4}$")
        self.assertEqual(lines[1], f"Return-Path: <{sender}>")
        self.assertEqual(lines[2], f"Delivered-To: me@{FQDN}")
        self.assertIn("Subject: for procmail\n", data)
        self.assertTrue(data.endswith("\n\nbody text\n"), data[-100:])
        self.t.wait_log(r"delivery \d+: success: did_0\+0\+1/", what="program delivery success")
        self.assertEqual(self.t.maildir_count(os.path.join(me, "Maildir")), 0)

    def test_faq_4_6_aliases_with_dots(self):
        alias = self.t.alias_home()
        self.t.maildirmake(os.path.join(alias, "pdqbach"))
        self.t.maildirmake(os.path.join(alias, "dotted"))
        # ~alias/.qmail-P.D.Q.Bach "doesn't do anything" ...
        self.t.dot_qmail(alias, "-P.D.Q.Bach", "./dotted/\n")
        # ... Use .qmail-p:d:q:bach.
        self.t.dot_qmail(alias, "-p:d:q:bach", "./pdqbach/\n")
        self.t.start()
        self.t.inject(message("dots"), f"P.D.Q.Bach@{FQDN}")
        [m] = [str(x) for x in self.t.wait_maildir(os.path.join(alias, "pdqbach"))]
        self.t.wait_queue_empty()
        # qmail-local's Delivered-To is local@domain as the recipient had it.
        self.assertEqual(header(m, "Delivered-To"), f"P.D.Q.Bach@{FQDN}")
        self.assertEqual(self.t.maildir_count(os.path.join(alias, "dotted")), 0)

    # -- 7. Managing the mail system -----------------------------------------

    def test_faq_7_1_safely_stop_qmail_send(self):
        me = self.t.add_user("me")
        # Slow deliveries, so TERM arrives while some are running.
        self.t.dot_qmail(me, "", "|sleep 0.3\n./Maildir/\n")
        self.t.start()
        n = 12
        for i in range(n):
            self.t.inject(message(f"m{i}"), f"me@{FQDN}")
        self.t.wait_log(r"starting delivery \d+: msg \d+ to local ", what="a delivery in progress")
        # Go ahead and kill the qmail-send process ...
        self.t.signal(signal.SIGTERM)
        rc = self.t.send.wait(120)
        # ... Wait for "exiting" to show up in the log.
        self.assertIn("status: exiting", self.t.log())
        self.assertEqual(rc, 0)
        started = len(re.findall(r"starting delivery (\d+):", self.t.log()))
        ended = len(re.findall(r"delivery (\d+): (?:success|failure|deferral)", self.t.log()))
        self.assertEqual(started, ended, "every running delivery reported before exiting")
        # Nothing lost: every message is delivered or still queued (a
        # delivered message may wait in mess/ for its cleanup).
        delivered = {header(m, "Subject") for m in maildir_files(os.path.join(me, "Maildir"))}
        queued = len(self.queued("mess"))
        self.assertGreaterEqual(len(delivered) + queued, n, self.t.log())
        before = self.t.maildir_count(os.path.join(me, "Maildir"))
        # To restart it, run qmail-start the same way.
        self.t.send = None
        self.t.start()
        # (Tree.start matches the first run's status line; wait for our own,
        # so the ALRM below cannot arrive before the signal handlers exist.)
        self.wait(lambda: "status: local" in self.t.log().split("status: exiting", 1)[1],
                  "the restarted qmail-send")
        self.t.wait_maildir(os.path.join(me, "Maildir"), count=n, timeout=60)
        # As in qmail, a job whose channel pass was still open at TERM keeps
        # its (all done) channel file until its next retry time; ALRM (7.2)
        # makes that now.  Nothing is delivered twice.
        self.t.signal(signal.SIGALRM)
        self.wait(self.t.queue_empty, "empty queue")
        self.assertEqual(self.t.maildir_count(os.path.join(me, "Maildir")), n)
        restarted = self.t.log().split("status: exiting", 1)[1]
        self.assertEqual(len(re.findall(r"starting delivery \d+:", restarted)), n - before)

    def test_faq_7_2_manually_run_the_queue(self):
        me = self.t.add_user("me")
        self.t.dot_qmail(me, "", "|exit 111\n")       # deferred: next try in ~100 s
        self.t.start()
        self.t.inject(message("retry me"), f"me@{FQDN}")
        self.t.wait_log(r"delivery \d+: deferral: ", what="first deferral")
        self.t.dot_qmail(me, "", "./Maildir/\n")
        # Answer: Give the qmail-send process an ALRM.
        self.t.signal(signal.SIGALRM)
        self.t.wait_maildir(os.path.join(me, "Maildir"), timeout=30)
        self.t.wait_queue_empty()
        self.assertEqual(len(re.findall(r"starting delivery \d+: msg \d+ to local me@", self.t.log())), 2)

    def test_faq_7_3_rejuvenate_a_message(self):
        me = self.t.add_user("me")
        sender = self.t.add_user("sender")
        lifetime = 3
        self.t.control("queuelifetime", f"{lifetime}\n")
        self.t.dot_qmail(me, "", "|exit 111\n")       # the recipient's host "is down"
        self.t.start()
        self.t.inject(message("important"), f"-fsender@{FQDN}", f"me@{FQDN}")
        self.t.wait_log(r"new msg \d+", what="first message")
        self.t.inject(message("unimportant"), f"-fsender@{FQDN}", f"me@{FQDN}")
        self.t.wait_log(r"delivery \d+: deferral: ", count=2, what="both deferred")
        keep, drop = self.ids()[:2]
        birth = max(os.stat(self.info_path(i)).st_mtime for i in (keep, drop))
        # Both are now older than queuelifetime ...
        # (A second of margin: time(2) reads a coarse clock that can lag
        # Python's time.time() by a few milliseconds at a second boundary.)
        wait_for(lambda: time.time() > birth + lifetime + 2, timeout=lifetime + 6, what="aging")
        # ... Answer: Just touch queue/info/S/N of the important one.
        os.utime(self.info_path(keep), None)
        self.t.signal(signal.SIGALRM)                 # retry both now (7.2)
        [b] = [str(x) for x in self.t.wait_maildir(os.path.join(sender, "Maildir"))]
        self.t.wait_log(rf"end msg {drop}\b", what="the old message completed")
        self.t.wait_log(r"delivery \d+: deferral: ", count=3, what="the rejuvenated one deferred")
        self.assertEqual(header(b, "Subject"), "failure notice")
        self.assertIn("I'm not going to try again; this message has been in the queue too long.", b)
        self.assertIn("Subject: unimportant", b)
        self.assertNotIn("Subject: important", b)
        self.assertTrue(os.path.exists(self.info_path(keep)), "rejuvenated message still queued")
        self.assertFalse(os.path.exists(self.info_path(drop)))
        self.assertEqual(self.t.maildir_count(os.path.join(me, "Maildir")), 0)

    # -- 8. Miscellany --------------------------------------------------------

    def test_faq_8_2_copy_of_all_mail(self):
        # evqmail's run-time QUEUE_EXTRA: control/queueextra (doc/queueextra.md).
        self.t.control("queueextra", "log\n")
        alias = self.t.alias_home()
        self.t.dot_qmail(alias, "-log", "./msg-log\n")
        self.t.control("concurrencyremote", "0\n")   # the outgoing one stays queued
        self.t.control("concurrencylocal", "0\n")    # first hold local mail too
        me = self.t.add_user("me")
        self.t.start()
        self.t.inject(message("incoming"), f"me@{FQDN}")
        self.t.inject(message("outgoing"), "joe@far.host")
        # The extra T record shows up in the queue like any recipient.
        self.wait(lambda: self.t.run("qmail-qread").stdout.decode().count(f"\tlocal\tlog@{FQDN}\n") == 2,
                  "two log@ recipients in qmail-qread")
        q = self.t.run("qmail-qread").stdout.decode()
        self.assertIn(f"\tlocal\tme@{FQDN}\n", q)
        self.assertIn("\tremote\tjoe@far.host\n", q)
        # Let local deliveries run (concurrency needs a restart, FAQ 8.1).
        self.t.control("concurrencylocal", "10\n")
        self.t.stop()
        self.assertIn("status: exiting", self.t.log())
        self.t.start()
        self.wait(lambda: "status: local" in self.t.log().split("status: exiting", 1)[1],
                  "the restarted qmail-send")
        self.t.wait_maildir(os.path.join(me, "Maildir"))
        mbox = os.path.join(alias, "msg-log")

        def copies():
            try:
                return open(mbox, encoding="latin-1").read().count("\nSubject: ") >= 2
            except FileNotFoundError:
                return False
        self.wait(copies, "two copies in ~alias/msg-log")
        data = open(mbox, encoding="latin-1").read()
        self.assertIn("Subject: incoming\n", data)
        self.assertIn("Subject: outgoing\n", data)
        self.assertEqual(data.count(f"Delivered-To: log@{FQDN}\n"), 2, data)
        self.assertEqual(data.count("\nFrom ") + data.startswith("From "), 2, data)
        self.assertEqual(len(re.findall(rf"msg \d+ to local log@{re.escape(FQDN)}", self.t.log())), 2)
