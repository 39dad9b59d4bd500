"""Shared harness of evqmail's end-to-end tests: a qmail tree, the real
programs started in it, and helpers that poll with deadlines (never blind
sleeps).

A tree is made in one of two modes (EVQ_MODE, or Tree(mode=...)):

  private  scripts/setup by an unprivileged user: a single-user tree where
           every qmail account is that user (doc/qmail-home.7).  The mode for
           developers; tests/run runs the whole suite this way.
  system   as root, `make setup QMAILHOME=<dir>` with programs built for that
           home, qmail's real accounts, real login users made for the test
           (removed afterwards), QMAILHOME/rc started as root with splogger's
           syslog lines caught by the test (with-syslog), no QMAILHOME in any
           environment.  How users install qmail; tests/run runs the system
           tier and the recipe tests this way when it is root.
"""
import atexit
import fcntl
import grp
import mailbox
import os
import pwd
import re
import shutil
import signal
import sys
import socket
import subprocess
import tempfile
import threading
import time
import unittest

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("EVQ_BUILD", os.path.join(SRC, "build"))
FQDN = "test.example"
# Sanitizer builds (make asan sets EVQ_SANITIZED=1) run every program a few
# times slower: deadlines stretch, passing tests take no longer.
TIME_SCALE = 3.0 if os.environ.get("EVQ_SANITIZED") == "1" else 1.0
MODE = os.environ.get("EVQ_MODE", "private")
# The mark of login accounts the system tier makes (and may remove).
ACCOUNT_MARK = "evqmail test account"
SANITIZER_VARS = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")


def system_possible():
    """Why system trees cannot be made here, or None when they can."""
    if os.getuid() != 0:
        return "system trees need root (qmail's accounts, setuid, real users)"
    for prog in ("useradd", "userdel", "setpriv", "unshare", "make"):
        if not shutil.which(prog) and not os.path.exists("/usr/sbin/" + prog):
            return f"system trees need {prog}"
    return None


def _skip_or_fail(reason):
    # CI runs as root and sets EVQ_REQUIRE_SYSTEM=1: a system test that
    # would skip there is a failure, never a silent skip.
    if os.environ.get("EVQ_REQUIRE_SYSTEM") == "1":
        raise AssertionError("system test cannot run: " + reason)
    raise unittest.SkipTest(reason)


def system_only(obj):
    """Decorator for a test or class that needs a system tree: skipped with
    the reason where there cannot be one (not root), run in either mode."""
    reason = system_possible()
    if isinstance(obj, type):
        orig = obj.setUp

        def setUp(self, *a, **k):
            if reason:
                _skip_or_fail(reason)
            return orig(self, *a, **k)
        obj.setUp = setUp
        return obj

    def wrapper(*a, **k):
        if reason:
            _skip_or_fail(reason)
        return obj(*a, **k)
    wrapper.__name__ = obj.__name__
    wrapper.__doc__ = obj.__doc__
    return wrapper


def private_only(reason):
    """Decorator: the test is about single-user trees (or cannot be done as
    root) and is skipped in system mode, saying why."""
    return unittest.skipIf(MODE == "system", "private trees only: " + reason)


_system_dir = None
_system_lock = None


def system_dir():
    """Scratch space of system trees for this process, reachable by qmail's
    accounts (mode 755 all the way up): $EVQ_SYSTMP or a new /tmp folder."""
    global _system_dir, _system_lock
    if _system_dir is None:
        # One system-tree run at a time on a machine: they share qmail's
        # accounts, the alias account's home and the test login names.
        _system_lock = open("/run/evq-system-tests.lock", "a")
        fcntl.flock(_system_lock, fcntl.LOCK_EX)
        d = os.environ.get("EVQ_SYSTMP")
        if not d:
            d = tempfile.mkdtemp(prefix="evq-sys.", dir="/tmp")
            atexit.register(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        _system_dir = d
    return _system_dir


_system_builds = {}


def system_build(home):
    """A build folder whose programs are compiled for `home`: a copy of
    BUILD's objects relinked with QMAILHOME=home (the Makefile rebuilds
    queue/home.o when conf-home changes), made once per home and run."""
    if home in _system_builds:
        return _system_builds[home]
    b = os.path.join(system_dir(), "build-" + re.sub(r"[^A-Za-z0-9]+", "_", home).strip("_"))
    if not os.path.isdir(b):
        os.makedirs(b)
        subprocess.run(["cp", "-a", os.path.join(BUILD, "obj"), b], check=True)
        for n in os.listdir(BUILD):
            if n.endswith(".a") or n == "conf-home":
                subprocess.run(["cp", "-a", os.path.join(BUILD, n), b], check=True)
        retarget_deps(os.path.join(b, "obj"))
    subprocess.run(["make", "-s", "-j2", "-C", SRC, "progs", *make_vars(b, home)], check=True,
                   stdout=subprocess.DEVNULL)
    _system_builds[home] = b
    return b


def retarget_deps(obj):
    """The copied .d files (gcc -MMD) name their object under the original
    BUILD; renamed to the copy, a changed header still rebuilds what
    includes it there."""
    for root, _, files in os.walk(obj):
        for n in files:
            if not n.endswith(".d"):
                continue
            p = os.path.join(root, n)
            with open(p) as f:
                text = f.read()
            target, sep, rest = text.partition(":")
            if sep and "/obj/" in target:
                with open(p, "w") as f:
                    f.write(os.path.join(obj, target.split("/obj/", 1)[1]) + sep + rest)


def make_vars(build, home):
    v = [f"BUILD={build}", f"QMAILHOME={home}"]
    if os.environ.get("EVQ_SANITIZED") == "1":
        v.append("SANITIZE=address,undefined")
    return v


class SyslogListener:
    """The /dev/log of a system tree's rc (see with-syslog): every datagram
    that syslog(3) sends becomes one line of `logfile`."""

    def __init__(self, path, logfile):
        self.path = path
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.settimeout(0.2)
        self.fh = open(logfile, "ab", buffering=0)
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            self.fh.write(data.rstrip(b"\n") + b"\n")

    def close(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()
        self.fh.close()


def wait_for(pred, timeout=20.0, interval=0.02, what="condition"):
    """Polls pred() until it returns a true value or the deadline passes.
    `what` may be a callable, evaluated only on failure (e.g. to show the log)."""
    deadline = time.monotonic() + timeout * TIME_SCALE
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            text = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout}s waiting for {text}")
        time.sleep(interval)


# A fresh interpreter that runs argv[1:] and writes the child's peak RSS (KB)
# to the file named first.  A process forked from the test runner inherits the
# runner's own peak in ru_maxrss; forked from this small one, it does not.
_PEAK_RSS = (
    "import os,sys\n"
    "pid=os.fork()\n"
    "if pid==0:\n"
    "    os.execv(sys.argv[2],sys.argv[2:])\n"
    "_,st,ru=os.wait4(pid,0)\n"
    "open(sys.argv[1],'w').write(str(ru.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(st) & 255)\n")


def peak_rss_argv(argv, report):
    """argv run under a wrapper that writes its peak RSS in KB to `report`."""
    return [sys.executable, "-S", "-c", _PEAK_RSS, report, *argv]


def free_port(host="127.0.0.1"):
    """A TCP port on `host` that nothing listens on right now."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def listening(port):
    """True if some socket listens on TCP `port` (read from /proc/net/tcp{,6})."""
    want = ":%04X" % port
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(f) as fh:
                next(fh)
                for line in fh:
                    parts = line.split()
                    if parts[1].endswith(want) and parts[3] == "0A":
                        return True
        except FileNotFoundError:
            pass
    return False


def wait_listening(port, timeout=20.0):
    wait_for(lambda: listening(port), timeout, what=f"a listener on port {port}")


class Service:
    """A long-running program (tcpserver and the like) with its output in a file."""

    def __init__(self, argv, env, logfile, cwd="/"):
        self.argv = argv
        self.logfile = logfile
        self.fh = open(logfile, "ab")
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=self.fh, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def log(self):
        with open(self.logfile, "rb") as f:
            return f.read().decode("latin-1")

    def wait_log(self, pattern, timeout=20, count=1):
        rx = re.compile(pattern)
        return wait_for(lambda: len(rx.findall(self.log())) >= count, timeout,
                        what=lambda: f"/{pattern}/ x{count} in {self.argv[0]} output:\n{self.log()[-2000:]}")

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.fh.close()


class Tree:
    """One qmail home with user homes under $base/home. Private mode: the
    home is $base/qmail. System mode: the home is given (default: the one
    system home of this run) and must not be in use by another tree."""

    def __init__(self, base=None, delivery="./Maildir/", fqdn=FQDN, mode=None, home=None):
        self.mode = mode or MODE
        self.system = self.mode == "system"
        self.fqdn = fqdn
        self.send = None
        self.assign = []
        self.services = []
        self.users = []          # login accounts made for this tree (system)
        self.syslog = None
        self.alias_was = None    # the alias account's home before this tree
        self.uid, self.gid = os.getuid(), os.getgid()
        if self.system:
            reason = system_possible()
            if reason:
                _skip_or_fail(reason)
            self.base = tempfile.mkdtemp(prefix="evq-", dir=base or system_dir())
            os.chmod(self.base, 0o755)
            self.home = home or os.path.join(system_dir(), "qmail")
            if os.path.exists(self.home):
                kill_strays(self.home)
                shutil.rmtree(self.home)
            self.build = system_build(self.home)
            # As an administrator installs it (README): make setup as root.
            subprocess.run(["make", "-s", "-C", SRC, "setup", *make_vars(self.build, self.home),
                            f"DEFAULTDELIVERY={delivery}", f"FQDN={fqdn}"],
                           check=True, stdout=subprocess.DEVNULL)
            self.point_alias()
        else:
            self.base = tempfile.mkdtemp(prefix="evq-", dir=base)
            self.home = os.path.join(self.base, "qmail")
            self.build = BUILD
            env = dict(os.environ, BUILD=BUILD)
            subprocess.run(["sh", os.path.join(SRC, "scripts/setup"), self.home, delivery, fqdn],
                           check=True, env=env, stdout=subprocess.DEVNULL)
        self.bin = os.path.join(self.home, "bin")
        self.logfile = os.path.join(self.base, "send.log")

    # -- environment -----------------------------------------------------
    def env(self, **extra):
        e = {"PATH": self.bin + ":/usr/bin:/bin", "LANG": "C"}
        # A system tree's programs know their home: nothing tells them.
        if not self.system:
            e["QMAILHOME"] = self.home
        # The sanitizer options of tests/run (reports to files) reach our programs.
        for k in ("TMPDIR",) + SANITIZER_VARS:
            if k in os.environ:
                e[k] = os.environ[k]
        e.update({k: v for k, v in extra.items() if v is not None})
        return e

    def path(self, *parts):
        return os.path.join(self.home, *parts)

    def control(self, name, text):
        with open(self.path("control", name), "w") as f:
            f.write(text)

    def remove_control(self, name):
        try:
            os.unlink(self.path("control", name))
        except FileNotFoundError:
            pass

    # -- accounts ----------------------------------------------------------
    def ids(self, account, group=None):
        """(uid, gid) of a qmail account (qmaild, alias, ...) or login user;
        `group` names the gid to use instead of the account's own (nofiles
        for qmaild, as the recipes' "qmaild uid, nofiles gid"). In a private
        tree every account is the test user."""
        if not self.system:
            return self.uid, self.gid
        pw = pwd.getpwnam(account)
        return pw.pw_uid, (grp.getgrnam(group).gr_gid if group else pw.pw_gid)

    def daemon_opts(self):
        """tcpserver's `-u UID -g GID` for qmail-smtpd as the recipes give
        them: qmaild's uid and the nofiles gid."""
        uid, gid = self.ids("qmaild", "nofiles")
        return ("-u", str(uid), "-g", str(gid))

    def chown(self, path, account, group=None):
        """chown -R account[:group] path (system trees; a private tree has
        one owner already)."""
        if not self.system:
            return
        uid, gid = self.ids(account, group)
        for root, dirs, files in os.walk(path):
            for n in dirs + files:
                os.lchown(os.path.join(root, n), uid, gid)
        os.lchown(path, uid, gid)

    def as_user(self, who):
        """argv prefix that runs a command as `who` (an account name or a
        (uid, gid) pair) in a system tree; nothing in a private tree."""
        if not self.system or who is None:
            return []
        if isinstance(who, str):
            return ["setpriv", f"--reuid={who}", f"--regid={pwd.getpwnam(who).pw_gid}", "--init-groups"]
        uid, gid = who
        return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]

    def alias_home(self):
        """~alias: the tree's alias/ (a system tree points the alias
        account's home there while it lives, see point_alias)."""
        return self.path("alias")

    def point_alias(self):
        """qmail finds ~alias in the passwd file, and there is one alias
        account per machine: a test tree that is not where setup first made
        it takes it over, as an administrator moving qmail would, until
        cleanup puts the old home back."""
        pw = pwd.getpwnam("alias")
        if pw.pw_dir != self.alias_home():
            subprocess.run(["usermod", "-d", self.alias_home(), "alias"], check=True,
                           stdout=subprocess.DEVNULL)
            if self.alias_was is None:
                self.alias_was = pw.pw_dir

    def owner_of(self, path):
        st = os.stat(path)
        return st.st_uid, st.st_gid

    # -- users -------------------------------------------------------------
    def add_user(self, name, maildir=True):
        """A mail user; returns its home. Private: handled through
        users/assign. System: a real login account `name` whose home is
        $base/home/name, found by qmail-getpw as qmail finds any user."""
        h = os.path.join(self.base, "home", name)
        if not self.system:
            os.makedirs(h, mode=0o755, exist_ok=True)
            os.chmod(h, 0o755)
            if maildir:
                self.run("maildirmake", os.path.join(h, "Maildir"))
            self.assign.append(f"={name}:{name}:{self.uid}:{self.gid}:{h}:::")
            self.assign.append(f"+{name}-:{name}:{self.uid}:{self.gid}:{h}:-::")
            self.newu()
            return h
        self.make_account(name, h)
        if maildir:
            self.maildirmake(os.path.join(h, "Maildir"))
        return h

    def make_account(self, name, home, shell="/bin/sh"):
        """A login account with its home directory (system trees), removed
        at cleanup. An account of that name that this harness did not make
        is never touched: the test fails instead."""
        try:
            pw = pwd.getpwnam(name)
            if pw.pw_gecos != ACCOUNT_MARK:
                raise AssertionError(f"account {name} exists on this machine and is not a test account")
            remove_account(name)
        except KeyError:
            pass
        subprocess.run(["useradd", "--no-create-home", "--home-dir", home, "--shell", shell,
                        "--comment", ACCOUNT_MARK, "--user-group", name], check=True)
        self.users.append(name)
        pw = pwd.getpwnam(name)
        os.makedirs(home, exist_ok=True)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        os.chmod(home, 0o755)
        return pw.pw_uid, pw.pw_gid

    def maildirmake(self, path, cwd=None):
        """maildirmake path, run (system trees) as the owner of the folder
        it is made in, as a user or the recipe's admin after chown would."""
        parent = os.path.dirname(os.path.abspath(os.path.join(cwd or "/", path)))
        return self.run("maildirmake", path, cwd=cwd,
                        user=self.owner_of(parent) if self.system else None)

    def newu(self):
        with open(self.path("users", "assign"), "w") as f:
            f.write("".join(l + "\n" for l in self.assign) + ".\n")
        self.run("qmail-newu")

    def dot_qmail(self, home, ext, text, mode=0o644):
        """Writes home/.qmail<ext> (ext like '-info' or ''), owned like home."""
        p = os.path.join(home, ".qmail" + ext)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        if self.system:
            os.chown(p, *self.owner_of(home))
        return p

    # -- programs ------------------------------------------------------------
    def run(self, prog, *args, input=None, env=None, check=True, timeout=30, cwd=None, user=None):
        """Runs bin/prog (as `user` in a system tree: a name or (uid, gid);
        as root when None)."""
        e = self.env(**(env or {}))
        argv = self.as_user(user) + [os.path.join(self.bin, prog), *args]
        p = subprocess.run(argv, input=input, env=e, capture_output=True, timeout=timeout, cwd=cwd)
        if check and p.returncode != 0:
            raise AssertionError(f"{prog} {args} exited {p.returncode}: {p.stderr!r} {p.stdout!r}")
        return p

    def queue(self, message, sender, rcpts, check=True, user=None):
        """Queues one message through bin/qmail-queue with an exact envelope
        (F sender, T rcpts); returns qmail-queue's exit code."""
        if isinstance(message, str):
            message = message.encode()
        env = b"F" + sender.encode() + b"\0" + b"".join(b"T" + r.encode() + b"\0" for r in rcpts) + b"\0"
        r, w = os.pipe()
        os.write(w, env)
        os.close(w)
        try:
            p = subprocess.run(self.as_user(user) + [self.path("bin", "qmail-queue")], input=message,
                               stdout=r, env=self.env(), timeout=30)
        finally:
            os.close(r)
        if check:
            assert p.returncode == 0, f"qmail-queue exited {p.returncode}"
        return p.returncode

    def inject(self, message, *args, env=None, check=True, user=None):
        if isinstance(message, str):
            message = message.encode()
        return self.run("qmail-inject", *args, input=message, env=env, check=check, user=user)

    def start(self, delivery=None, extra_env=None, resolv=None):
        """Starts qmail-send logging to a file: qmail-start in a private
        tree, QMAILHOME/rc as root (splogger to a caught syslog) in a system
        tree, where `resolv` is a resolv.conf for it and its children (the
        environment's DNSSERVERS cannot pass rc). Returns the process, which
        is qmail-send."""
        if delivery is None:
            with open(self.path("control", "defaultdelivery")) as f:
                delivery = f.read().strip()
        before = len(re.findall(r"status: local 0/\d+ remote 0/\d+", self.log()))
        self.log_fh = open(self.logfile, "ab")
        if self.system:
            self.send = self._start_rc(delivery, extra_env or {}, resolv)
        else:
            self.send = subprocess.Popen([os.path.join(self.bin, "qmail-start"), delivery],
                                         cwd="/", env=self.env(**(extra_env or {})),
                                         stdout=self.log_fh, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        # Wait for a status line of *this* run, so a signal sent right after
        # start reaches a qmail-send that has installed its handlers.
        self.wait_log(r"status: local 0/\d+ remote 0/\d+", what="qmail-send start", count=before + 1)
        return self.send

    def _start_rc(self, delivery, extra_env, resolv):
        # rc reads control/defaultdelivery and keeps only PATH of its
        # environment (env - PATH="QMAILHOME/bin:$PATH"): that is all a
        # caller can give it, as at boot.
        bad = set(extra_env) - {"PATH"}
        if bad:
            raise AssertionError(f"rc takes no environment but PATH: {sorted(bad)}")
        with open(self.path("control", "defaultdelivery")) as f:
            if f.read().strip() != delivery:
                self.control("defaultdelivery", delivery + "\n")
        rc = self.path("rc")
        san = {k: os.environ[k] for k in SANITIZER_VARS if k in os.environ}
        if san:
            # Sanitizer builds only: rc's `env -` would drop the options that
            # send reports to files; rc is run from a copy that keeps them.
            with open(rc) as f:
                text = f.read()
            keep = " ".join(f"{k}='{v}'" for k, v in san.items())
            rc = os.path.join(self.base, "rc.sanitized")
            with open(rc, "w") as f:
                f.write(text.replace("exec env - ", f"exec env - {keep} ", 1))
            os.chmod(rc, 0o755)
        if not self.syslog:
            self.syslog = SyslogListener(os.path.join(self.base, "log.sock"), self.logfile)
        path = extra_env.get("PATH", "/usr/local/bin:/usr/bin:/bin")
        return subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh",
                                 os.path.join(SRC, "tests", "e2e", "with-syslog"),
                                 self.syslog.path, *(["-r", resolv] if resolv else []), rc],
                                cwd="/", env={"PATH": path}, stdout=self.log_fh,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def signal(self, sig):
        self.send.send_signal(sig)

    def stop(self, timeout=30):
        """TERM to qmail-send; waits for `exiting` and the process end."""
        if self.send and self.send.poll() is None:
            exiting = self.log().count("status: exiting")
            self.send.send_signal(signal.SIGTERM)
            try:
                self.send.wait(timeout)
                # In a system tree the line travels through syslog's socket
                # and the listener thread: it may land after the exit.
                try:
                    wait_for(lambda: self.log().count("status: exiting") > exiting, 10)
                except AssertionError:
                    pass  # a test that needs the line says so itself
            except subprocess.TimeoutExpired:
                os.killpg(self.send.pid, signal.SIGKILL)
                self.send.wait()
        self.kill_group()
        self.send = None

    def kill_group(self):
        if self.send:
            try:
                os.killpg(self.send.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def log(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read().decode("latin-1")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=20, what=None, count=1):
        rx = re.compile(pattern)
        return wait_for(lambda: len(rx.findall(self.log())) >= count, timeout,
                        what=what or (lambda: f"log line /{pattern}/ x{count}\n--- log ---\n{self.log()[-3000:]}"))

    # -- mailboxes -----------------------------------------------------------
    def maildir(self, path):
        return mailbox.Maildir(path, factory=None, create=False)

    def maildir_count(self, path):
        try:
            return len(os.listdir(os.path.join(path, "new"))) + len(os.listdir(os.path.join(path, "cur")))
        except FileNotFoundError:
            return 0

    def wait_maildir(self, path, count=1, timeout=20):
        wait_for(lambda: self.maildir_count(path) >= count, timeout,
                 what=lambda: f"{count} message(s) in {path}\n--- log ---\n{self.log()[-3000:]}")
        return list(self.maildir(path))

    def queue_empty(self):
        q = self.path("queue")
        for d in ("todo", "intd"):
            if os.listdir(os.path.join(q, d)):
                return False
        for d in ("mess", "info", "local", "remote"):
            for s in os.listdir(os.path.join(q, d)):
                if os.listdir(os.path.join(q, d, s)):
                    return False
        return True

    def wait_queue_empty(self, timeout=20):
        wait_for(self.queue_empty, timeout, what=lambda: "empty queue\n--- log ---\n" + self.log()[-3000:])

    # -- network services ----------------------------------------------------
    def serve(self, program, *args, host="127.0.0.1", port=None, opts=(), env=None,
              tcpserver=None, name=None):
        """Starts `tcpserver [opts] host port program args...` from this tree's
        bin/ (or the `tcpserver` given, e.g. Debian's /usr/bin/tcpserver),
        waits until it listens and returns (Service, port). Stopped at cleanup.
        In a system tree tcpserver starts as root; opts such as
        daemon_opts() say whom it runs the program as."""
        port = port or free_port(host)
        ts = tcpserver or os.path.join(self.bin, "tcpserver")
        prog = program if os.path.isabs(program) or program in ("sh", "env") else os.path.join(self.bin, program)
        argv = [ts, *opts, host, str(port), prog, *args]
        log = os.path.join(self.base, f"{name or program.split('/')[-1]}-{port}.log")
        svc = Service(argv, self.env(**(env or {})), log)
        self.services.append(svc)
        wait_for(lambda: listening(port) or svc.proc.poll() is not None, 20,
                 what=f"tcpserver listening on {port}")
        if svc.proc.poll() is not None:
            raise AssertionError(f"tcpserver exited: {svc.log()[-2000:]}")
        return svc, port

    def processes(self):
        """{pid: argv} of processes running a program of this tree."""
        return tree_processes(self.base, self.home)

    def wait_programs_done(self, name, timeout=20):
        """Waits until no process runs this tree's program `name` (e.g. the
        qmail-popup of a session that has just ended)."""
        path = os.path.join(self.bin, name).encode()
        rel = ("bin/" + name).encode()
        wait_for(lambda: not any(a[0] in (path, rel) for a in self.processes().values()), timeout,
                 what=f"{name} to exit")

    def cleanup(self):
        for svc in self.services:
            svc.stop()
        self.stop()
        # SIGKILLed daemons (a multithreaded one takes a moment) are given
        # time to go before anything still running counts as a stray.
        try:
            wait_for(lambda: not self.processes(), 5, interval=0.05)
        except AssertionError:
            pass
        kill_strays(self.base, self.home)
        if self.syslog:
            self.syslog.close()
        for name in self.users:
            remove_account(name)
        if self.alias_was is not None:
            subprocess.run(["usermod", "-d", self.alias_was, "alias"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        shutil.rmtree(self.base, ignore_errors=True)
        if self.system:
            shutil.rmtree(self.home, ignore_errors=True)


def remove_account(name):
    """Removes a login account this harness made (never another)."""
    try:
        if pwd.getpwnam(name).pw_gecos != ACCOUNT_MARK:
            return
    except KeyError:
        return
    # Its processes first: userdel refuses while the user has any.
    subprocess.run(["pkill", "-KILL", "-u", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["userdel", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        subprocess.run(["groupdel", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except FileNotFoundError:
        pass


def tree_processes(base, home=None):
    """{pid: argv} of processes running a program of the tree at `base` (and
    its home, when that lies elsewhere): ours only, unless we are root, who
    also sees the tree's daemons under qmail's accounts. A program started as
    `bin/NAME` counts when its working directory is in the home."""
    me = os.getuid()
    roots = [p.encode() + b"/" for p in (base, home) if p]
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            if me != 0 and os.stat(f"/proc/{pid}").st_uid != me:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if argv and argv[0].startswith(b"bin/") and home:
                cwd = os.readlink(f"/proc/{pid}/cwd")
                if cwd != home and not cwd.startswith(home + "/"):
                    continue
                found[int(pid)] = argv
                continue
        except OSError:
            continue
        if argv and any(argv[0].startswith(r) for r in roots):
            found[int(pid)] = argv
    return found


def kill_strays(base, home=None):
    """Kills processes still running a program of the tree at `base` (a
    daemon a test's services left behind), so that none can eat the CPU of
    the tests after it; says so on stderr."""
    for pid, argv in tree_processes(base, home).items():
        try:
            os.kill(pid, signal.SIGKILL)
            sys.stderr.write(f"evq: killed stray process {pid}: {b' '.join(argv).decode('latin-1')[:200]}\n")
        except ProcessLookupError:
            pass


class TreeTest(unittest.TestCase):
    """Base class: a fresh tree per test (in EVQ_MODE), stopped and removed
    afterwards."""
    delivery = "./Maildir/"

    def setUp(self):
        self.t = Tree(delivery=self.delivery)
        self.addCleanup(self.t.cleanup)
