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
smtp      unix  -       -       n       -       {smtp_maxproc:<7} smtp
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

    def __init__(self, base, port, domain, hold=True, extra=None, smtp_maxproc="-"):
        self.base = base
        self.port = port
        self.domain = domain
        self.hold = hold
        self.extra = dict(extra or {})
        self.smtp_maxproc = smtp_maxproc
        self.conf = os.path.join(base, "etc")
        self.spool = os.path.join(base, "spool")
        self.data = os.path.join(base, "data")
        for d in (self.conf, self.spool, self.data):
            os.makedirs(d, exist_ok=True)
        shutil.chown(self.data, "postfix", "postfix")
        self.write_config()
        self.run("postfix", "-c", self.conf, "check")
        self.start()

    def write_config(self):
        domain = self.domain
        base = self.base
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
            "myorigin": domain,
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
        if self.hold:
            settings["smtpd_data_restrictions"] = "check_client_access static:HOLD"
        settings.update(self.extra)
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write("".join(f"{k} = {v}\n" for k, v in settings.items()))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(SERVICES.format(port=f"127.0.0.1:{self.port}", smtp_maxproc=self.smtp_maxproc))

    def start(self):
        self.run("postfix", "-c", self.conf, "start")
        self.wait_listening()

    def reconfigure(self, extra=None, smtp_maxproc=None, hold=None):
        """Stops the instance, rewrites main.cf/master.cf with `extra` merged
        in (and the smtp service's process limit), starts it again: the
        queue is kept."""
        self.stop()
        self.extra.update(extra or {})
        if smtp_maxproc is not None:
            self.smtp_maxproc = smtp_maxproc
        if hold is not None:
            self.hold = hold
        self.write_config()
        self.start()

    def release(self):
        """Delivery of the held backlog: `postsuper -H ALL` moves the hold
        queue to the deferred queue, `postqueue -f` has the qmgr scan it now."""
        self.run("postsuper", "-c", self.conf, "-H", "ALL")
        self.run("postqueue", "-c", self.conf, "-f")

    def count(self, *queues):
        """Files in the named queues (hold, incoming, active, deferred, maildrop)."""
        n = 0
        for q in queues:
            for _, _, files in os.walk(os.path.join(self.spool, q)):
                n += len(files)
        return n

    def state(self):
        """The queue files per queue and the end of the log, for a failure report."""
        qs = ("maildrop", "incoming", "active", "deferred", "hold")
        return ", ".join(f"{q} {self.count(q)}" for q in qs) + "\n" + self.log()[-1500:]

    def sendmail_argv(self, sender, *rcpts):
        """Postfix's sendmail for this instance (its configuration directory)."""
        return ["/usr/sbin/sendmail", "-C", self.conf, "-f", sender, *rcpts]

    def master_pid(self):
        try:
            with open(os.path.join(self.spool, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def daemons(self, name):
        """Pids of this instance's daemons called `name` (children of its master)."""
        master = self.master_pid()
        found = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
            except OSError:
                continue
            comm = s[s.index("(") + 1:s.rindex(")")]
            ppid = int(s[s.rindex(")") + 2:].split()[1])
            if comm == name and ppid == master:
                found.append(int(d))
        return found

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
        """Messages in the incoming, active, deferred, maildrop and hold queues."""
        return self.count("incoming", "active", "deferred", "maildrop", "hold")

    def purge(self):
        self.run("postsuper", "-c", self.conf, "-d", "ALL", check=False)

    def stop(self):
        pid = self.master_pid()
        self.run("postfix", "-c", self.conf, "stop", check=False)
        deadline = time.monotonic() + 30
        while pid and os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid and os.path.exists(f"/proc/{pid}"):
            self.run("postfix", "-c", self.conf, "abort", check=False)
