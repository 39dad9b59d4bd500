#!/usr/bin/env python3
"""SMTP ingest benchmark: messages per second that qmail-smtpd (under our
tcpserver) accepts into the queue, with N concurrent smtplib sessions each
sending its share of the messages over one connection (like Postfix's
smtp-source), plus the resident memory of one idle qmail-smtpd process.
qmail-send is not running, so only reception and queueing are measured.

  python3 tests/bench/smtp_ingest.py [--messages 5000] [--size 2048] [--sessions 1,10,50]

Run as root it re-executes itself as the unprivileged account `evqcheck`
(private trees are single-user trees); not part of make check."""
import argparse
import os
import smtplib
import socket
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


def idle_rss(port, server_pid):
    s = socket.create_connection(("127.0.0.1", port))
    s.recv(100)  # the greeting: qmail-smtpd is up and waiting
    rss = None
    deadline = time.monotonic() + 10
    while rss is None and time.monotonic() < deadline:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/status") as f:
                    st = dict(l.split(":", 1) for l in f if ":" in l)
                if st["PPid"].strip() == str(server_pid) and st["Name"].strip() == "qmail-smtpd":
                    rss = st["VmRSS"].strip()
            except (OSError, KeyError):
                pass
    s.close()
    return rss


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
        print(f"idle qmail-smtpd RSS: {idle_rss(port, svc.proc.pid)}")
    finally:
        t.cleanup()


if __name__ == "__main__":
    sys.exit(main())
