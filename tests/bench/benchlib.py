"""What the benchmarks share: running as the unprivileged test account,
the standard message body of about 2 KB and the fast C SMTP sink."""
import os
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))

LINE = "The quick brown fox jumps over the lazy dog; evqmail bench line.\n"


def reexec_unprivileged(script):
    """As tests/run does: re-runs `script` as `evqcheck` in a private temporary
    folder (private trees are single-user trees, queue/home.h)."""
    if subprocess.run(["id", "evqcheck"], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "evqcheck"], check=True)
    tmp = tempfile.mkdtemp(prefix="evq-bench-")
    shutil.chown(tmp, "evqcheck", "evqcheck")
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    cmd = ["setpriv", "--reuid=evqcheck", "--regid=evqcheck", "--init-groups",
           "env", f"HOME={tmp}", f"TMPDIR={tmp}", f"EVQ_BUILD={os.environ['EVQ_BUILD']}",
           py, os.path.abspath(script), *sys.argv[1:]]
    try:
        return subprocess.run(cmd).returncode
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def body_text(i):
    """Header and 30 lines: about 2 KB."""
    return f"Subject: bench {i}\nTo: bench\n\n" + LINE * 30


def enter(script):
    """Common start of a benchmark: settles EVQ_BUILD (default ./build), and
    either re-runs `script` unprivileged (as root: returns its exit code and
    None) or returns (None, the e2e harness module evq)."""
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    build = os.environ.get("EVQ_BUILD") or os.environ.get("BUILD", "build")
    if not os.path.isabs(build):
        build = os.path.join(src, build)
    os.environ["EVQ_BUILD"] = build
    if os.getuid() == 0:
        return reexec_unprivileged(script), None
    sys.path.insert(0, os.path.join(src, "tests", "e2e"))
    import evq
    return None, evq


def proc_cpu(pid):
    """(own CPU s, reaped children's CPU s) of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    hz = os.sysconf("SC_CLK_TCK")
    return (int(v[11]) + int(v[12])) / hz, (int(v[13]) + int(v[14])) / hz


class CSink:
    """tests/bench/sink.c compiled (needs cc) and listening on `ip` (a random
    port, self.port): one epoll process that accepts every message; the count
    of messages accepted so far is self.count (read from its stdout)."""

    def __init__(self, ip):
        self.dir = tempfile.mkdtemp(prefix="sink-")
        exe = os.path.join(self.dir, "sink")
        subprocess.run(["cc", "-O2", "-o", exe, os.path.join(HERE, "sink.c")], check=True)
        self.proc = subprocess.Popen([exe, ip], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.port = int(self.proc.stdout.readline().split()[1])
        self.count = 0
        self.max_sessions = "?"
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.count = int(line)

    def cpu(self):
        return proc_cpu(self.proc.pid)[0]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.reader.join(5)
        shutil.rmtree(self.dir, ignore_errors=True)


def qmail_send_pid(session):
    """The qmail-send process in the session qmail-start (or rc) was started in, or None."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{d}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm == "qmail-send" and int(rest[3]) == session:
            return int(d)
    return None


def status_kb(pid, field):
    """A kB field of /proc/PID/status (VmRSS, VmHWM), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, TypeError):
        pass
    return None
