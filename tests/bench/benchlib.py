"""What the benchmarks share: running as the unprivileged test account and
the standard message body of about 2 KB."""
import os
import shutil
import subprocess
import sys
import tempfile

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
