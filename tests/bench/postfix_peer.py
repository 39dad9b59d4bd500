"""A private Postfix instance for side-by-side benchmarks: Debian's postfix
with its own configuration directory, queue and log under a scratch folder,
smtpd on a loopback high port, nothing on port 25, nothing left running.
Needs root (Postfix's master runs as root and its daemons as `postfix`)."""
import os
import shutil
import subprocess
import time

SERVICES = """\
{port}      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def available():
    """None when a private Postfix can run here, else why not."""
    if os.getuid() != 0:
        return "Postfix's master needs root"
    for p in ("/usr/sbin/postfix", "/usr/sbin/smtp-source", "/usr/lib/postfix/sbin/master"):
        if not os.path.exists(p):
            return f"{p} is missing (scripts/deps bench installs Debian's postfix)"
    return None


class Postfix:
    """One instance. `hold`: every message accepted goes to the hold queue
    (an smtpd HOLD action), so ingest alone is measured, as with qmail-send
    stopped. (Without a qmgr in master.cf, cleanup's failing trigger costs
    Postfix tenfold.)"""

    def __init__(self, base, port, domain, hold=True, extra=None):
        self.base = base
        self.port = port
        self.conf = os.path.join(base, "etc")
        self.spool = os.path.join(base, "spool")
        self.data = os.path.join(base, "data")
        for d in (self.conf, self.spool, self.data):
            os.makedirs(d, exist_ok=True)
        shutil.chown(self.data, "postfix", "postfix")
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": self.spool,
            "data_directory": self.data,
            "command_directory": "/usr/sbin",
            "daemon_directory": "/usr/lib/postfix/sbin",
            "shlib_directory": "/usr/lib/postfix",
            "meta_directory": "/etc/postfix",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": domain,
            "mydomain": domain,
            "mydestination": domain,
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            "home_mailbox": "Maildir/",
            "biff": "no",
            "append_dot_mydomain": "no",
            "smtputf8_enable": "no",
            "maillog_file": os.path.join(base, "maillog"),
            "maillog_file_prefixes": base,
            "default_process_limit": "200",
            "smtpd_client_connection_count_limit": "0",
            "smtpd_client_connection_rate_limit": "0",
            "syslog_name": "postfix-bench",
        }
        if hold:
            settings["smtpd_data_restrictions"] = "check_client_access static:HOLD"
        settings.update(extra or {})
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write("".join(f"{k} = {v}\n" for k, v in settings.items()))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(SERVICES.format(port=f"127.0.0.1:{port}"))
        self.run("postfix", "-c", self.conf, "check")
        self.run("postfix", "-c", self.conf, "start")
        self.wait_listening()

    def run(self, *argv, check=True):
        # Postfix's commands report on stderr only when it is a terminal
        # (syslog otherwise), so errors are read through script(1)'s pty.
        cmd = " ".join(argv)
        r = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, timeout=120,
                           env={"PATH": "/usr/sbin:/usr/bin:/bin", "MAIL_CONFIG": self.conf})
        if check and r.returncode != 0:
            raise RuntimeError(f"{cmd}: exit {r.returncode}: {r.stdout.decode(errors='replace')[-2000:]}")
        return r

    def wait_listening(self, timeout=30):
        want = ":%04X" % self.port
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open("/proc/net/tcp") as f:
                if any(l.split()[1].endswith(want) and l.split()[3] == "0A" for l in list(f)[1:]):
                    return
            time.sleep(0.05)
        raise RuntimeError("postfix did not listen on %d: %s" % (self.port, self.log()[-2000:]))

    def log(self):
        try:
            with open(os.path.join(self.base, "maillog")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def queued(self):
        """Messages in the incoming, active and deferred queues."""
        n = 0
        for q in ("incoming", "active", "deferred", "maildrop", "hold"):
            for _, _, files in os.walk(os.path.join(self.spool, q)):
                n += len(files)
        return n

    def purge(self):
        self.run("postsuper", "-c", self.conf, "-d", "ALL", check=False)

    def stop(self):
        pid = None
        try:
            with open(os.path.join(self.spool, "pid", "master.pid")) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
        self.run("postfix", "-c", self.conf, "stop", check=False)
        deadline = time.monotonic() + 30
        while pid and os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid and os.path.exists(f"/proc/{pid}"):
            self.run("postfix", "-c", self.conf, "abort", check=False)
