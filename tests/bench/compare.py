#!/usr/bin/env python3
"""evqmail against Debian's Postfix in one run, both as installed: evqmail
in a root system tree with qmail's accounts (qmail-smtpd under tcpserver
as qmaild/nofiles, qmail-send started by QMAILHOME/rc), Postfix as a
private instance on a loopback port (postfix_peer.py). Every workload gets
a fresh system tree; the Postfix instance is reconfigured (stopped and
started again) where a workload needs other settings.

Workloads (--workloads, default all; N = --messages, messages of about 2 KB):

  ingest  SMTP ingest with Postfix's smtp-source at 1, 10 and 50 concurrent
          sessions, one message per connection (how MX traffic arrives) and
          many per connection (smtp-source -d), delivery held on both sides
          (qmail-send not started, qmail-queued run as its own service;
          Postfix's smtpd puts every message on hold).
  drain   local drain of a backlog of N messages for one local user with a
          Maildir (one file per message): evqmail's queued with bin/qmail-queue
          while qmail-send is stopped, timed from rc's start; Postfix's sent
          with smtp-source into the hold queue, timed from `postsuper -H ALL`
          + `postqueue -f`; both until all N files are in the Maildir.
  e2e     local end to end: 10 concurrent injectors each running sendmail
          (evqmail's bin/sendmail, Postfix's `sendmail -C`) for one message
          at a time until N, timed until all N are in the Maildir.
  remote  N messages for remote.example (evqmail: control/smtproutes;
          Postfix: transport_maps) to the C sink (sink.c) on 127.0.0.5 at
          concurrency 20 and 100 (concurrencyremote = Postfix's destination
          concurrency limit = its smtp process limit), queued with delivery
          stopped (held), timed from start (release) until the sink has all.
  pss     PSS (/proc/PID/smaps_rollup) of the processes that hold one idle
          SMTP session after EHLO: evqmail's qmail-smtpd, Postfix's smtpd.
  queue   evqmail's qmail-send with --small 10000 (and --big, e.g. 50000) messages
          queued for a .qmail that delivers nowhere (a comment line: qmail-local
          runs and does nothing), timed from start, with qmail-send's peak and
          final RSS; beside it Postfix's qmgr with the same backlog released
          to its discard transport.

Figures are the median of --repeat runs; ratio is evqmail/Postfix. Runs of
evqmail and Postfix alternate. A default run (5000 messages, 3 repeats) takes
over an hour on a busy 2-CPU machine (evqmail's ingest, local and remote
delivery run at 25-100 msg/s there); --messages 1000 --repeat 1 takes about
17 minutes.

  python3 tests/bench/compare.py [--messages 5000] [--repeat 3] [--workloads ingest,drain,...]
        [--sessions 1,10,50] [--concurrency 20,100] [--big 50000] [--local-concurrency K]

Needs root and Debian's postfix (scripts/deps bench); not part of make check."""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))

import postfix_peer  # noqa: E402
from benchlib import CSink, body_text, qmail_send_pid, status_kb  # noqa: E402

SENDER = "bench@example.net"
SINK_IP = "127.0.0.5"
WORKLOADS = ("ingest", "drain", "e2e", "remote", "pss", "queue")
INJECTORS = 8     # parallel qmail-queue runs that fill evqmail's backlogs


def smtp_source(port, sessions, messages, size, rcpt, reuse):
    """Seconds smtp-source takes to send `messages`; raises on failure."""
    argv = ["smtp-source", "-s", str(sessions), "-m", str(messages), "-l", str(size),
            "-f", SENDER, "-t", rcpt, "-M", "bench.example"]
    if reuse:
        argv.append("-d")
    start = time.monotonic()
    r = subprocess.run(argv + [f"127.0.0.1:{port}"], capture_output=True, timeout=3600)
    elapsed = time.monotonic() - start
    if r.returncode != 0:
        raise RuntimeError(f"smtp-source exit {r.returncode}: {r.stderr.decode(errors='replace')[-500:]}")
    return elapsed


def wait_until(pred, timeout, what, interval=0.05):
    """Polls pred() until true; raises with what() after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what()}")
        time.sleep(interval)


def deadline_for(n):
    return max(120.0, n / 20.0)


def in_maildir(maildir):
    return len(os.listdir(os.path.join(maildir, "new")))


def empty_maildir(maildir):
    for sub in ("new", "cur", "tmp"):
        d = os.path.join(maildir, sub)
        for name in os.listdir(d):
            os.unlink(os.path.join(d, name))


def parallel(n, workers, one):
    """Runs one(i) for i in range(n) on `workers` threads; raises the first error."""
    errors = []

    def work(k):
        for i in range(k, n, workers):
            if errors:
                return
            try:
                one(i)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(f"#{i}: {e}")
    ths = [threading.Thread(target=work, args=(k,)) for k in range(workers)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    if errors:
        raise RuntimeError(f"{len(errors)} failed, first {errors[0]}")


def evq_queue_many(t, n, rcpt, workers=INJECTORS):
    """N messages through bin/qmail-queue (as root) in parallel; seconds taken."""
    def one(i):
        t.queue(body_text(i).replace("To: bench", f"To: {rcpt}"), SENDER, [rcpt])
    t0 = time.monotonic()
    parallel(n, workers, one)
    return time.monotonic() - t0


def smaps_kb(pid):
    """{field: kB} of /proc/PID/smaps_rollup (Rss, Pss, Private_Dirty, ...)."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    return out


def comm_of(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def ppid_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


class LogCounter:
    """Counts occurrences of a text in a growing log file, reading only what
    was added since the last call."""

    def __init__(self, path, text):
        self.path, self.text, self.offset, self.n, self.tail = path, text.encode(), 0, 0, b""

    def __call__(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return self.n
        self.offset += len(data)
        data = self.tail + data
        cut = data.rfind(b"\n") + 1
        self.n += data[:cut].count(self.text)
        self.tail = data[cut:]
        return self.n


class Bench:
    def __init__(self, a, evq, base):
        self.a, self.evq, self.base = a, evq, base
        self.t = None
        self.pf = None
        self.sink = None
        self.rows = []

    # -- plumbing --------------------------------------------------------
    def tree(self):
        """A fresh system tree (the previous one cleaned up)."""
        if self.t:
            self.t.cleanup()
            self.t = None
        self.t = self.evq.Tree(mode="system")
        if self.a.local_concurrency:
            self.t.control("concurrencylocal", f"{self.a.local_concurrency}\n")
        return self.t

    def postfix(self, **kw):
        """The Postfix instance, reconfigured with `kw` (extra=, smtp_maxproc=)."""
        if self.pf is None:
            extra = dict(kw.pop("extra", {}) or {})
            if self.a.local_concurrency:
                extra["local_destination_concurrency_limit"] = str(self.a.local_concurrency)
            self.pf = postfix_peer.Postfix(os.path.join(self.base, "postfix"), self.evq.free_port(),
                                           self.evq.FQDN, hold=True, extra=extra, **kw)
        else:
            # Whatever a failed workload may have left queued goes first.
            self.pf.purge()
            if kw:
                self.pf.reconfigure(**kw)
        return self.pf

    def pf_empty(self, timeout=120):
        """Waits until Postfix's queue is empty (nothing left over for the next run)."""
        pf = self.pf
        wait_until(lambda: pf.queued() == 0, timeout,
                   lambda: f"an empty Postfix queue (have {pf.queued()})\n{pf.state()}")

    def row(self, name, unit, e, p, fmt="{:.0f}"):
        self.rows.append((name, unit, e, p, fmt))
        print(self.format_row(self.rows[-1]), flush=True)

    @staticmethod
    def format_row(r):
        name, unit, e, p, fmt = r

        def cell(v):
            return "-" if v is None else fmt.format(v)
        ratio = f"{e / p:.2f}" if e is not None and p else "-"
        return f"{name:<48}| {unit:<6}| {cell(e):>10} | {cell(p):>10} | {ratio:>6}"

    @staticmethod
    def header():
        return f"{'workload':<48}| {'unit':<6}| {'evqmail':>10} | {'Postfix':>10} | {'ratio':>6}"

    def pair(self, evq_once, pf_once):
        """Medians of --repeat runs of each, evqmail and Postfix alternating
        (the machine's other load then weighs on both alike)."""
        e, p = [], []
        for _ in range(self.a.repeat):
            e.append(evq_once())
            p.append(pf_once())
        return statistics.median(e), statistics.median(p)

    # -- workloads -------------------------------------------------------
    def ingest(self):
        a = self.a
        t = self.tree()
        pf = self.postfix()
        # qmail-send stays stopped, so qmail-queued runs as its own service
        # would (as qmailq, no -p): qmail-smtpd hands it every message.
        qd = subprocess.Popen([*t.as_user("qmailq"), os.path.join(t.bin, "qmail-queued")], env=t.env(), cwd="/")
        wait_until(lambda: os.path.exists(t.path("queued", "socket")) or qd.poll() is not None, 20,
                   "qmail-queued's socket")
        try:
            self.ingest_runs(t, pf)
        finally:
            qd.terminate()
            qd.wait()

    def ingest_runs(self, t, pf):
        a = self.a
        _, evq_port = t.serve("qmail-smtpd", opts=("-R", "-H", "-c", "200", *t.daemon_opts()))
        rcpt = f"joe@{self.evq.FQDN}"
        for reuse in (False, True):
            shape = "many per connection" if reuse else "one per connection"
            for n in [int(x) for x in a.sessions.split(",")]:
                def evq_once():
                    return a.messages / smtp_source(evq_port, n, a.messages, a.size, rcpt, reuse)

                def pf_once():
                    r = a.messages / smtp_source(pf.port, n, a.messages, a.size, rcpt, reuse)
                    pf.purge()
                    return r
                self.row(f"ingest {shape}, {n} sessions", "msg/s", *self.pair(evq_once, pf_once), "{:.1f}")

    def local_users(self):
        t = self.tree()
        evq_md = os.path.join(t.add_user("bench"), "Maildir")
        pf_md = os.path.join(t.add_user("pfbench"), "Maildir")
        return t, evq_md, pf_md

    def drain(self):
        a, n = self.a, self.a.messages
        t, evq_md, pf_md = self.local_users()
        pf = self.postfix()
        rcpt = f"bench@{self.evq.FQDN}"

        def evq_once():
            evq_queue_many(t, n, rcpt)
            t0 = time.monotonic()
            t.start()
            wait_until(lambda: in_maildir(evq_md) >= n, deadline_for(n),
                       lambda: f"{n} in {evq_md} (have {in_maildir(evq_md)})\n{t.log()[-1500:]}")
            dt = time.monotonic() - t0
            t.stop()
            empty_maildir(evq_md)
            return n / dt

        def pf_once():
            smtp_source(pf.port, 10, n, a.size, f"pfbench@{self.evq.FQDN}", True)
            wait_until(lambda: pf.count("hold") >= n, 60, lambda: f"{n} held by Postfix (have {pf.count('hold')})")
            t0 = time.monotonic()
            pf.release()
            wait_until(lambda: in_maildir(pf_md) >= n, deadline_for(n),
                       lambda: f"{n} in {pf_md} (have {in_maildir(pf_md)})\n{pf.state()}")
            dt = time.monotonic() - t0
            self.pf_empty()
            empty_maildir(pf_md)
            return n / dt
        self.row(f"local drain of {n} queued", "msg/s", *self.pair(evq_once, pf_once))

    def e2e(self):
        n, k = self.a.messages, 10
        t, evq_md, pf_md = self.local_users()
        pf = self.postfix()
        evq_argv = [os.path.join(t.bin, "sendmail"), "-f", SENDER, f"bench@{self.evq.FQDN}"]
        pf_argv = pf.sendmail_argv(SENDER, f"pfbench@{self.evq.FQDN}")
        evq_env = t.env()
        pf_env = {"PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C"}
        t.start()

        def once(argv, env, md, log):
            def one(i):
                p = subprocess.run(argv, input=body_text(i).encode(), env=env, capture_output=True, timeout=60)
                if p.returncode:
                    raise RuntimeError(f"{argv[0]} exit {p.returncode}: {p.stderr[-300:]!r}")
            t0 = time.monotonic()
            parallel(n, k, one)
            wait_until(lambda: in_maildir(md) >= n, deadline_for(n),
                       lambda: f"{n} in {md} (have {in_maildir(md)})\n{log()[-2000:]}")
            dt = time.monotonic() - t0
            empty_maildir(md)
            return n / dt

        def pf_once():
            r = once(pf_argv, pf_env, pf_md, pf.state)
            self.pf_empty()
            return r
        e, p = self.pair(lambda: once(evq_argv, evq_env, evq_md, t.log), pf_once)
        t.stop()
        self.row(f"local end to end, {k} sendmail injectors", "msg/s", e, p)

    def remote(self):
        a, n = self.a, self.a.messages
        t = self.tree()
        if self.sink is None:
            self.sink = CSink(SINK_IP)
        sink = self.sink
        rcpt = "x@remote.example"
        t.control("smtproutes", f"remote.example:{SINK_IP}:{sink.port}\n")
        for c in [int(x) for x in a.concurrency.split(",")]:
            t.control("concurrencyremote", f"{c}\n")
            pf = self.postfix(extra={
                "transport_maps": f"inline:{{remote.example=smtp:[{SINK_IP}]:{sink.port}}}",
                "default_destination_concurrency_limit": str(c),
                "smtp_destination_concurrency_limit": str(c)}, smtp_maxproc=str(c))

            def evq_once():
                evq_queue_many(t, n, rcpt)
                base = sink.count
                t0 = time.monotonic()
                t.start()
                wait_until(lambda: sink.count - base >= n, deadline_for(n),
                           lambda: f"{n} at the sink (have {sink.count - base})\n{t.log()[-1500:]}")
                dt = time.monotonic() - t0
                t.stop()
                return n / dt

            def pf_once():
                smtp_source(pf.port, 10, n, a.size, rcpt, True)
                wait_until(lambda: pf.count("hold") >= n, 60, lambda: f"{n} held (have {pf.count('hold')})")
                base = sink.count
                t0 = time.monotonic()
                pf.release()
                wait_until(lambda: sink.count - base >= n, deadline_for(n),
                           lambda: f"{n} at the sink (have {sink.count - base})\n{pf.state()}")
                dt = time.monotonic() - t0
                self.pf_empty()
                return n / dt
            self.row(f"remote to sink, concurrency {c}", "msg/s", *self.pair(evq_once, pf_once))

    def pss(self):
        t = self.tree()
        _, evq_port = t.serve("qmail-smtpd", opts=("-R", "-H", "-c", "200", *t.daemon_opts()))
        pf = self.postfix(extra={})   # restarted: no smtpd left from earlier workloads
        notes = []
        figures = {}
        for name, port in (("evq", evq_port), ("pf", pf.port)):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                f = s.makefile("rb")
                expect(f, b"220 ")
                s.sendall(b"EHLO client.example\r\n")
                expect(f, b"250 ")
                holders = socket_holders(port, s.getsockname()[1])
                sm = {pid: smaps_kb(pid) for pid in holders}
                figures[name] = sum(v["Pss"] for v in sm.values())
                notes.append(f"{'evqmail' if name == 'evq' else 'Postfix'}: " + ", ".join(
                    f"{comm_of(pid)} pid {pid} Pss {v['Pss']} Rss {v['Rss']} "
                    f"private {v.get('Private_Clean', 0) + v.get('Private_Dirty', 0)} kB"
                    for pid, v in sm.items()))
                if name == "evq":
                    parent = ppid_of(next(iter(holders)))
                    v = smaps_kb(parent)
                    notes.append(f"  (its {comm_of(parent)} pid {parent}, shared by all sessions: "
                                 f"Pss {v['Pss']} Rss {v['Rss']} kB)")
                else:
                    master = pf.master_pid()
                    v = smaps_kb(master)
                    notes.append(f"  (its master pid {master}, shared by all sessions: "
                                 f"Pss {v['Pss']} Rss {v['Rss']} kB)")
                s.sendall(b"QUIT\r\n")
        self.row("idle SMTP session after EHLO, PSS", "kB", figures["evq"], figures["pf"])
        for line in notes:
            print("    " + line, flush=True)

    def queue(self):
        sizes = [self.a.small] + ([self.a.big] if self.a.big and self.a.big != self.a.small else [])
        for n in sizes:
            t = self.tree()
            home = t.add_user("bench", maildir=False)
            t.dot_qmail(home, "-trash", "# trash: delivers nowhere\n")
            rcpt = f"bench-trash@{self.evq.FQDN}"
            inj = evq_queue_many(t, n, rcpt)
            done = LogCounter(t.logfile, "end msg ")
            done()
            ok = LogCounter(t.logfile, ": success: ")
            ok()
            peak = [0]
            t0 = time.monotonic()
            t.start()
            pid = qmail_send_pid(t.send.pid)

            def finished():
                peak[0] = max(peak[0], status_kb(pid, "VmRSS") or 0)
                return done() >= n
            wait_until(finished, deadline_for(n), lambda: f"{n} 'end msg' lines (have {done()})\n"
                       f"{t.log()[-1500:]}", interval=0.2)
            dt = time.monotonic() - t0
            hwm, rss = status_kb(pid, "VmHWM"), status_kb(pid, "VmRSS")
            successes = ok()
            t.stop()
            # Postfix beside: the same backlog held, released to its discard transport.
            pf = self.postfix(extra={"transport_maps": f"inline:{{trash.{self.evq.FQDN}=discard:}}"})
            smtp_source(pf.port, 10, n, self.a.size, f"x@trash.{self.evq.FQDN}", True)
            wait_until(lambda: pf.count("hold") >= n, 120, lambda: f"{n} held (have {pf.count('hold')})")
            qmgr = pf.daemons("qmgr")
            t1 = time.monotonic()
            pf.release()
            pf_peak = [0]

            def pf_finished():
                for q in qmgr:
                    pf_peak[0] = max(pf_peak[0], status_kb(q, "VmRSS") or 0)
                return pf.queued() == 0
            wait_until(pf_finished, deadline_for(n), lambda: f"an empty Postfix queue (have {pf.queued()})",
                       interval=0.2)
            pdt = time.monotonic() - t1
            pf_hwm = max((status_kb(q, "VmHWM") or 0) for q in qmgr) if qmgr else None
            pf_rss = max((status_kb(q, "VmRSS") or 0) for q in qmgr) if qmgr else None
            label = f"queue {n // 1000}k" if n % 1000 == 0 else f"queue {n}"
            self.row(f"{label}: drain, '#' .qmail / discard", "msg/s", n / dt, n / pdt)
            self.row(f"{label}: qmail-send / qmgr VmHWM", "kB", hwm, pf_hwm)
            self.row(f"{label}: qmail-send / qmgr VmRSS max sampled", "kB", peak[0], pf_peak[0])
            self.row(f"{label}: qmail-send / qmgr VmRSS at the end", "kB", rss, pf_rss)
            print(f"    evqmail: {n} queued by {INJECTORS} qmail-queue injectors in {inj:.1f} s "
                  f"({n / inj:.0f}/s); {successes} deliveries logged as success", flush=True)


def expect(f, prefix):
    """Reads SMTP reply lines until the last one (starting with `prefix`)."""
    while True:
        line = f.readline()
        if not line:
            raise RuntimeError(f"connection closed waiting for {prefix!r}")
        if line.startswith(prefix):
            return line
        if not line[3:4] == b"-":
            raise RuntimeError(f"unexpected reply {line!r}")


def socket_holders(server_port, client_port):
    """Pids of the processes that hold the server side of the TCP connection
    127.0.0.1:client_port -> 127.0.0.1:server_port."""
    local, remote = ":%04X" % server_port, ":%04X" % client_port
    inode = None
    with open("/proc/net/tcp") as f:
        for line in list(f)[1:]:
            p = line.split()
            if p[1].endswith(local) and p[2].endswith(remote):
                inode = p[9]
    if inode is None:
        raise RuntimeError("server side of the connection not found in /proc/net/tcp")
    want = f"socket:[{inode}]"
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{d}/fd"):
                if os.readlink(f"/proc/{d}/fd/{fd}") == want:
                    pids.append(int(d))
                    break
        except OSError:
            continue
    if not pids:
        raise RuntimeError(f"no process holds {want}")
    return pids


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workloads", default=",".join(WORKLOADS),
                    help="comma-separated subset of " + ",".join(WORKLOADS) + " (default all)")
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--sessions", default="1,10,50")
    ap.add_argument("--concurrency", default="20,100")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big", type=int, default=0,
                    help="a second, bigger backlog for the queue workload, e.g. 50000 "
                         "(default none: it adds about 20 minutes on a 2-CPU machine)")
    ap.add_argument("--small", type=int, default=10000, help="the first backlog of the queue workload")
    ap.add_argument("--local-concurrency", type=int, default=0,
                    help="set evqmail's concurrencylocal and Postfix's local_destination_concurrency_limit "
                         "(default: each as installed, 10 and 2)")
    a = ap.parse_args()
    chosen = [w.strip() for w in a.workloads.split(",") if w.strip()]
    bad = [w for w in chosen if w not in WORKLOADS]
    if bad or a.repeat < 1:
        ap.error(f"unknown workload(s) {bad}" if bad else "--repeat must be at least 1")
    why = postfix_peer.available()
    if why:
        print(f"compare: skipped: {why}")
        return 0
    os.environ.setdefault("EVQ_BUILD", os.path.join(SRC, "build"))
    os.environ["EVQ_MODE"] = "system"
    import evq
    reason = evq.system_possible()
    if reason:
        print(f"compare: skipped: {reason}")
        return 0
    base = tempfile.mkdtemp(prefix="evq-postfix-", dir=evq.system_dir())
    os.chmod(base, 0o755)
    b = Bench(a, evq, base)
    lc = a.local_concurrency
    print(f"evqmail (root system tree, build {os.environ['EVQ_BUILD']}) against Postfix "
          f"{postfix_version()} (private instance); {a.messages} messages of about {a.size} bytes, "
          f"median of {a.repeat}; local concurrency {f'{lc} on both' if lc else 'as installed (evqmail 10, Postfix 2 per recipient)'}; "
          f"queue workload at {a.small}" + (f" and {a.big}" if a.big and a.big != a.small else
                                            " only (--big 50000 adds a 50000 backlog, about 20 minutes more)"))
    print(b.header(), flush=True)
    failed = []
    start = time.monotonic()
    load0 = os.getloadavg()[0]
    try:
        for w in chosen:
            try:
                getattr(b, w)()
            except Exception:  # noqa: BLE001 - one workload failing does not stop the others
                failed.append(w)
                print(f"compare: workload {w} failed:\n{traceback.format_exc()}", flush=True)
    finally:
        if b.sink:
            b.sink.close()
        if b.pf:
            b.pf.stop()
        if b.t:
            b.t.cleanup()
        shutil.rmtree(base, ignore_errors=True)
    print(f"\nSummary ({time.monotonic() - start:.0f} s; ratio = evqmail/Postfix; load average "
          f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end on {os.cpu_count()} CPUs):")
    print(b.header())
    for r in b.rows:
        print(b.format_row(r))
    if failed:
        print(f"compare: failed workloads: {', '.join(failed)}")
        return 1
    return 0


def postfix_version():
    r = subprocess.run(["/usr/sbin/postconf", "-d", "-h", "mail_version"], capture_output=True, text=True)
    return r.stdout.strip() or "?"


if __name__ == "__main__":
    sys.exit(main())
