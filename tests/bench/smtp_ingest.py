#!/usr/bin/env python3
"""SMTP ingest benchmark: messages per second that qmail-smtpd (under our
tcpserver) accepts into the queue, with N concurrent smtplib sessions each
sending its share of the messages over one connection (like Postfix's
smtp-source), plus the memory of one idle qmail-smtpd process (RSS and
PSS), in plaintext and after STARTTLS: the difference is what an idle TLS
session costs (OpenSSL's session state; its buffers are released while idle).
qmail-send is not running, so only reception and queueing are measured.

  python3 tests/bench/smtp_ingest.py [--messages 5000] [--size 2048] [--sessions 1,10,50]

Run as root it re-executes itself as the unprivileged account `evqcheck`
(private trees are single-user trees); not part of make check."""
import argparse
import os
import smtplib
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "e2e"))
from benchlib import enter  # noqa: E402


def body(size):
    line = b"x" * 70 + b"\r\n"
    head = b"From: bench@example.net\r\nTo: joe@test.example\r\nSubject: ingest\r\n\r\n"
    return head + line * max(1, (size - len(head)) // len(line))


def run(port, sessions, messages, msg):
    share = [messages // sessions + (1 if i < messages % sessions else 0) for i in range(sessions)]
    errors = []

    def worker(n):
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=120) as s:
                s.ehlo("bench")
                for _ in range(n):
                    s.sendmail("bench@example.net", ["joe@test.example"], msg)
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(n,)) for n in share]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    return elapsed, errors


def memory(pid):
    """(RSS kB, PSS kB) of process `pid`."""
    vals = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Rss", "Pss"):
                vals[k] = int(v.split()[0])
    return vals["Rss"], vals["Pss"]


def idle_memory(port, server_pid, tls_ca=None):
    """Memory of the qmail-smtpd serving one idle connection: after the
    greeting, or (tls_ca given) after EHLO, STARTTLS and EHLO again."""
    before = set(children(server_pid))
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    if tls_ca:
        s.ehlo("bench")
        s.starttls(context=ssl.create_default_context(cafile=tls_ca))
        s.ehlo("bench")
    deadline = time.monotonic() + 10
    pids = []
    while not pids and time.monotonic() < deadline:
        pids = [p for p in children(server_pid) if p not in before]
    s.noop()  # the session is idle between commands, as a client thinking
    try:
        return memory(pids[0]) if pids else None
    finally:
        s.quit()


def children(server_pid):
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                st = dict(l.split(":", 1) for l in f if ":" in l)
            if st["PPid"].strip() == str(server_pid) and st["Name"].strip() == "qmail-smtpd":
                out.append(pid)
        except (OSError, KeyError):
            pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--sessions", default="1,10,50")
    a = ap.parse_args()
    rc, evq = enter(__file__)
    if evq is None:
        return rc
    t = evq.Tree()
    try:
        svc, port = t.serve("qmail-smtpd", opts=("-R", "-H", "-c", "200"))
        msg = body(a.size)
        print(f"message size {len(msg)} bytes, {a.messages} messages per run")
        for n in [int(x) for x in a.sessions.split(",")]:
            elapsed, errors = run(port, n, a.messages, msg)
            print(f"{n:3d} sessions: {a.messages / elapsed:8.1f} msg/s ({elapsed:.2f} s)"
                  + (f"  {len(errors)} errors, first: {errors[0]}" if errors else ""))
        from test_tls import install_server_cert
        _, ca = install_server_cert(t, owner=None, mode=0o644)
        svc, port = t.serve("qmail-smtpd", opts=("-R", "-H", "-c", "200"))
        plain = idle_memory(port, svc.proc.pid)
        tls = idle_memory(port, svc.proc.pid, tls_ca=ca)
        print(f"idle qmail-smtpd, plaintext: RSS {plain[0]} kB, PSS {plain[1]} kB")
        print(f"idle qmail-smtpd, after STARTTLS: RSS {tls[0]} kB, PSS {tls[1]} kB"
              f" (TLS adds {tls[0] - plain[0]} kB RSS, {tls[1] - plain[1]} kB PSS)")
    finally:
        t.cleanup()


if __name__ == "__main__":
    sys.exit(main())
