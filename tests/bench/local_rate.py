#!/usr/bin/env python3
"""`make bench`: local delivery throughput of evqmail.

Builds a private tree (tests/e2e/evq.py), starts qmail-send, injects N
one-recipient messages of about 2 KB with a few concurrent injectors — once
through bin/qmail-queue directly and once through qmail-inject, each on a
fresh tree — and measures messages per second from the first injection until
all N are in the recipient's Maildir; then (drain) queues N with qmail-send
stopped and times the drain of that backlog from qmail-start on.  Prints the
figures and the peak RSS of qmail-send (VmHWM).

--mode send measures qmail-send alone: the backlog is drained with
bin/qmail-lspawn replaced by tests/bench/nullspawn.cc (compiled here), which
answers every delivery at once, so the figure is the rate of qmail-send's
own work per message (todo processing, scheduling, completion, qmail-clean).
It is not part of "all".

  python3 tests/bench/local_rate.py [--count N] [--injectors K] [--mode queue|inject|drain|send|both|all]

Run as root it re-executes itself as the unprivileged account `evqcheck`
(private trees are single-user trees, queue/home.h)."""
import argparse
import os
import subprocess
import sys
import threading
import time

from benchlib import body_text, enter, qmail_send_pid, status_kb

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def body(i):
    return body_text(i).encode()


def nullspawn(dest):
    """Compiles tests/bench/nullspawn.cc to `dest`."""
    subprocess.run([os.environ.get("CXX", "c++"), "-O2", "-o", dest, os.path.join(HERE, "nullspawn.cc")],
                   check=True)


def queue_files(t):
    """Messages still known to the queue (info/ and todo/ entries)."""
    n = 0
    for d in ("info", "todo"):
        for _, _, files in os.walk(t.path("queue", d)):
            n += len(files)
    return n


def queue_busy(t):
    """True while any info/ or todo/ entry remains: stops at the first one,
    so that polling costs next to nothing beside the qmail-send it times."""
    def any_file(d):
        with os.scandir(d) as it:
            for e in it:
                if not e.is_dir(follow_symlinks=False) or any_file(e.path):
                    return True
        return False
    return any_file(t.path("queue", "info")) or any_file(t.path("queue", "todo"))


def run_mode(evq, mode, count, injectors):
    t = evq.Tree()
    try:
        home = t.add_user("bench")
        maildir = os.path.join(home, "Maildir")
        if mode == "send":
            lspawn = os.path.join(t.bin, "qmail-lspawn")
            os.unlink(lspawn)
            nullspawn(lspawn)
            t.control("concurrencylocal", "120\n")
        if mode not in ("drain", "send"):
            t.start()
        env = t.env(USER="bench", LOGNAME="bench")
        rcpt = f"bench@{evq.FQDN}"
        envelope = f"Fbench@{evq.FQDN}\0T{rcpt}\0\0".encode()
        errors = []

        def one(i):
            data = body(i)
            if mode in ("queue", "drain", "send"):
                r, w = os.pipe()
                os.write(w, envelope)
                os.close(w)
                p = subprocess.run([os.path.join(t.bin, "qmail-queue")], input=data, stdout=r,
                                   env=env, capture_output=False, stderr=subprocess.PIPE)
                os.close(r)
            else:
                p = subprocess.run([os.path.join(t.bin, "qmail-inject"), rcpt], input=data,
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if p.returncode != 0:
                errors.append(f"{mode} #{i} exited {p.returncode}: {p.stderr[:200]!r}")

        def worker(k):
            for i in range(k, count, injectors):
                if errors:
                    return
                one(i)

        t0 = time.monotonic()
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(injectors)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        t_inj = time.monotonic() - t0
        if errors:
            raise SystemExit(f"injection failed: {errors[0]}")
        if mode in ("drain", "send"):
            t0 = time.monotonic()
            t.start()
        deadline = time.monotonic() + max(120.0, count / 20.0)
        if mode == "send":
            while queue_busy(t):
                if time.monotonic() > deadline:
                    raise SystemExit(f"send: {queue_files(t)} messages left at the deadline\n{t.log()[-2000:]}")
                time.sleep(0.02)
            t_all = time.monotonic() - t0
            hwm = status_kb(qmail_send_pid(t.send.pid), "VmHWM")
            return {"mode": mode, "count": count, "injectors": injectors, "inject_s": t_inj,
                    "total_s": t_all, "rate": count / t_all, "inject_rate": count / t_inj, "hwm_kb": hwm}
        new = os.path.join(maildir, "new")
        while len(os.listdir(new)) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"{mode}: only {len(os.listdir(new))}/{count} delivered before the "
                                 f"deadline\n{t.log()[-2000:]}")
            time.sleep(0.05)
        t_all = time.monotonic() - t0
        hwm = status_kb(qmail_send_pid(t.send.pid), "VmHWM")
        return {"mode": mode, "count": count, "injectors": injectors, "inject_s": t_inj,
                "total_s": t_all, "rate": count / t_all, "inject_rate": count / t_inj, "hwm_kb": hwm}
    finally:
        t.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=5000, help="messages per mode (default 5000)")
    ap.add_argument("--injectors", type=int, default=4, help="concurrent injectors (default 4)")
    ap.add_argument("--mode", choices=("queue", "inject", "drain", "send", "both", "all"), default="all")
    args = ap.parse_args()
    rc, evq = enter(__file__)
    if evq is None:
        return rc
    modes = {"both": ["queue", "inject"], "all": ["queue", "inject", "drain"]}.get(args.mode, [args.mode])
    print(f"evqmail local delivery benchmark: {args.count} messages of ~2 KB, one recipient each, "
          f"{args.injectors} concurrent injectors, build {os.environ['EVQ_BUILD']}")
    for m in modes:
        r = run_mode(evq, m, args.count, args.injectors)
        hwm = f"{r['hwm_kb']} kB" if r["hwm_kb"] is not None else "n/a"
        if m == "send":
            print(f"{'qmail-send alone':17s} {r['count']} msgs queued, deliveries answered at once "
                  f"(nullspawn): queue empty {r['total_s']:.2f}s after qmail-start => {r['rate']:.0f} msgs/s; "
                  f"qmail-send peak RSS {hwm}")
        elif m == "drain":
            print(f"{'backlog drain':17s} {r['count']} msgs queued with qmail-send stopped: all in Maildir "
                  f"{r['total_s']:.2f}s after qmail-start => {r['rate']:.0f} msgs/s; qmail-send peak RSS {hwm}")
        else:
            via = "bin/qmail-queue" if m == "queue" else "bin/qmail-inject"
            print(f"{via:17s} {r['count']} msgs: injected in {r['inject_s']:.2f}s "
                  f"({r['inject_rate']:.0f}/s), all in Maildir after {r['total_s']:.2f}s "
                  f"=> {r['rate']:.0f} msgs/s; qmail-send peak RSS {hwm}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
