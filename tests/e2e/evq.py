"""Shared harness of evqmail's end-to-end tests: a private single-user qmail
tree made by scripts/setup, the real programs started in it, and helpers that
poll with deadlines (never blind sleeps)."""
import mailbox
import os
import re
import shutil
import signal
import sys
import socket
import subprocess
import tempfile
import time
import unittest

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("EVQ_BUILD", os.path.join(SRC, "build"))
FQDN = "test.example"
# Sanitizer builds (make asan sets EVQ_SANITIZED=1) run every program a few
# times slower: deadlines stretch, passing tests take no longer.
TIME_SCALE = 3.0 if os.environ.get("EVQ_SANITIZED") == "1" else 1.0


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
    """One private qmail home: $dir/qmail, user homes under $dir/home."""

    def __init__(self, base=None, delivery="./Maildir/", fqdn=FQDN):
        self.base = tempfile.mkdtemp(prefix="evq-", dir=base)
        self.home = os.path.join(self.base, "qmail")
        self.fqdn = fqdn
        env = dict(os.environ, BUILD=BUILD)
        subprocess.run(["sh", os.path.join(SRC, "scripts/setup"), self.home, delivery, fqdn],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        self.bin = os.path.join(self.home, "bin")
        self.send = None
        self.logfile = os.path.join(self.base, "send.log")
        self.assign = []
        self.services = []
        self.uid, self.gid = os.getuid(), os.getgid()

    # -- environment -----------------------------------------------------
    def env(self, **extra):
        e = {
            "PATH": self.bin + ":/usr/bin:/bin",
            "QMAILHOME": self.home,
            "LANG": "C",
        }
        # The sanitizer options of tests/run (reports to files) reach our programs.
        for k in ("TMPDIR", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
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

    # -- users -------------------------------------------------------------
    def add_user(self, name, maildir=True):
        """A mail user handled through users/assign; returns its home."""
        h = os.path.join(self.base, "home", name)
        os.makedirs(h, mode=0o755, exist_ok=True)
        os.chmod(h, 0o755)
        if maildir:
            self.run("maildirmake", os.path.join(h, "Maildir"))
        self.assign.append(f"={name}:{name}:{self.uid}:{self.gid}:{h}:::")
        self.assign.append(f"+{name}-:{name}:{self.uid}:{self.gid}:{h}:-::")
        self.newu()
        return h

    def newu(self):
        with open(self.path("users", "assign"), "w") as f:
            f.write("".join(l + "\n" for l in self.assign) + ".\n")
        self.run("qmail-newu")

    def dot_qmail(self, home, ext, text, mode=0o644):
        """Writes home/.qmail<ext> (ext like '-info' or '')."""
        p = os.path.join(home, ".qmail" + ext)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    # -- programs ------------------------------------------------------------
    def run(self, prog, *args, input=None, env=None, check=True, timeout=30, cwd=None):
        e = self.env(**(env or {}))
        p = subprocess.run([os.path.join(self.bin, prog), *args], input=input, env=e,
                           capture_output=True, timeout=timeout, cwd=cwd)
        if check and p.returncode != 0:
            raise AssertionError(f"{prog} {args} exited {p.returncode}: {p.stderr!r} {p.stdout!r}")
        return p

    def queue(self, message, sender, rcpts, check=True):
        """Queues one message through bin/qmail-queue with an exact envelope
        (F sender, T rcpts); returns qmail-queue's exit code."""
        if isinstance(message, str):
            message = message.encode()
        env = b"F" + sender.encode() + b"\0" + b"".join(b"T" + r.encode() + b"\0" for r in rcpts) + b"\0"
        r, w = os.pipe()
        os.write(w, env)
        os.close(w)
        try:
            p = subprocess.run([self.path("bin", "qmail-queue")], input=message, stdout=r,
                               env=self.env(), timeout=30)
        finally:
            os.close(r)
        if check:
            assert p.returncode == 0, f"qmail-queue exited {p.returncode}"
        return p.returncode

    def inject(self, message, *args, env=None, check=True):
        if isinstance(message, str):
            message = message.encode()
        return self.run("qmail-inject", *args, input=message, env=env, check=check)

    def start(self, delivery=None, extra_env=None):
        """Starts qmail-start (which becomes qmail-send) logging to a file."""
        if delivery is None:
            with open(self.path("control", "defaultdelivery")) as f:
                delivery = f.read().strip()
        before = len(re.findall(r"status: local 0/\d+ remote 0/\d+", self.log()))
        self.log_fh = open(self.logfile, "ab")
        self.send = subprocess.Popen([os.path.join(self.bin, "qmail-start"), delivery],
                                     cwd="/", env=self.env(**(extra_env or {})),
                                     stdout=self.log_fh, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        # Wait for a status line of *this* run, so a signal sent right after
        # start reaches a qmail-send that has installed its handlers.
        self.wait_log(r"status: local 0/\d+ remote 0/\d+", what="qmail-send start", count=before + 1)
        return self.send

    def signal(self, sig):
        self.send.send_signal(sig)

    def stop(self, timeout=30):
        """TERM to qmail-send; waits for `exiting` and the process end."""
        if self.send and self.send.poll() is None:
            self.send.send_signal(signal.SIGTERM)
            try:
                self.send.wait(timeout)
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
                        what=what or f"log line /{pattern}/ x{count}")

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
        waits until it listens and returns (Service, port). Stopped at cleanup."""
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

    def wait_programs_done(self, name, timeout=20):
        """Waits until no process runs this tree's program `name` (e.g. the
        qmail-popup of a session that has just ended)."""
        path = os.path.join(self.bin, name).encode()
        wait_for(lambda: not any(a[0] == path for a in tree_processes(self.base).values()), timeout,
                 what=f"{name} to exit")

    def cleanup(self):
        for svc in self.services:
            svc.stop()
        self.stop()
        kill_strays(self.base)
        shutil.rmtree(self.base, ignore_errors=True)


def tree_processes(base):
    """{pid: argv} of our processes running a program of the tree at `base`."""
    me = os.getuid()
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            if os.stat(f"/proc/{pid}").st_uid != me:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].startswith(base.encode() + b"/"):
            found[int(pid)] = argv
    return found


def kill_strays(base):
    """Kills our processes still running a program of the tree at `base` (a
    daemon a test's services left behind), so that none can eat the CPU of
    the tests after it; says so on stderr."""
    for pid, argv in tree_processes(base).items():
        try:
            os.kill(pid, signal.SIGKILL)
            sys.stderr.write(f"evq: killed stray process {pid}: {b' '.join(argv).decode('latin-1')[:200]}\n")
        except ProcessLookupError:
            pass


class TreeTest(unittest.TestCase):
    """Base class: a fresh tree per test, stopped and removed afterwards."""
    delivery = "./Maildir/"

    def setUp(self):
        self.t = Tree(delivery=self.delivery)
        self.addCleanup(self.t.cleanup)
