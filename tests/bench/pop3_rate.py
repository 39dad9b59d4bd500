#!/usr/bin/env python3
"""POP3 benchmark: list and retrieve a 10,000-message Maildir.

Builds a private tree (tests/e2e/evq.py), writes N messages of about 2 KB
straight into a virtual user's Maildir/new, serves
`tcpserver qmail-popup HOST checkvpw qmail-pop3d Maildir` and times, with
Python's poplib over loopback: login (including qmail-pop3d's scan), STAT,
LIST, UIDL, RETR of every message, DELE of every message, and QUIT (which
unlinks them all).  Prints one line per step and the totals.

  python3 tests/bench/pop3_rate.py [--count N] [--tcpserver PATH]

Run as root it re-executes itself as the unprivileged account `evqcheck`
(private trees are single-user trees, queue/home.h)."""
import argparse
import os
import poplib
import sys
import time

from benchlib import body_text, enter

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def body(i):
    return (body_text(i) + ".dot line\n").encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--tcpserver", default=None, help="tcpserver to use (default: ours)")
    args = ap.parse_args()
    rc, evq = enter(__file__)
    if evq is None:
        return rc

    t = evq.Tree()
    try:
        home = t.add_user("bench")
        md = os.path.join(home, "Maildir")
        h = t.run("qmail-newvpw", "-h", input=b"benchpw\n").stdout.decode().strip()
        with open(t.path("users", "vpasswd"), "w") as f:
            f.write(f"bench@{evq.FQDN}:{h}:{t.uid}:{t.gid}:{home}\n")
        t.run("qmail-newvpw")
        past = time.time() - 100
        total = 0
        for i in range(args.count):
            p = os.path.join(md, "new", f"{1600000000 + i}.M{i}P1.{evq.FQDN}")
            data = body(i)
            total += len(data)
            with open(p, "wb") as f:
                f.write(data)
            os.utime(p, (past, past))
        _, port = t.serve("qmail-popup", evq.FQDN, os.path.join(t.bin, "checkvpw"),
                          os.path.join(t.bin, "qmail-pop3d"), "Maildir",
                          tcpserver=args.tcpserver, env={"POPUP_FAILDELAY": "0"}, name="pop3")
        print(f"evqmail POP3 benchmark: {args.count} messages, {total / 1e6:.1f} MB, "
              f"tcpserver {args.tcpserver or 'ours'}, build {os.environ['EVQ_BUILD']}")
        steps = []

        def step(name, fn):
            t0 = time.perf_counter()
            r = fn()
            dt = time.perf_counter() - t0
            steps.append((name, dt))
            print(f"  {name:<28} {dt:8.3f} s")
            return r

        start = time.perf_counter()
        p = poplib.POP3("127.0.0.1", port, timeout=120)

        def login():
            p.user(f"bench@{evq.FQDN}")
            p.pass_("benchpw")
        step("login + scan", login)
        n, size = step("STAT", p.stat)
        assert n == args.count, n
        step("LIST", p.list)
        step("UIDL", p.uidl)
        got = [0]

        def retr_all():
            for i in range(1, n + 1):
                got[0] += sum(len(l) + 2 for l in p.retr(i)[1])
        step(f"RETR x {n}", retr_all)

        def dele_all():
            for i in range(1, n + 1):
                p.dele(i)
        step(f"DELE x {n}", dele_all)
        step("QUIT (unlink all)", p.quit)
        elapsed = time.perf_counter() - start
        listing = sum(dt for name, dt in steps if name in ("login + scan", "STAT", "LIST", "UIDL"))
        retr = dict(steps)[f"RETR x {n}"]
        print(f"  list (login+STAT+LIST+UIDL) {listing:8.3f} s")
        print(f"  retrieve all               {retr:8.3f} s  ({n / retr:.0f} msg/s, "
              f"{got[0] / retr / 1e6:.1f} MB/s)")
        print(f"  whole session              {elapsed:8.3f} s")
        left = len(os.listdir(os.path.join(md, "new"))) + len(os.listdir(os.path.join(md, "cur")))
        assert left == 0, left
    finally:
        t.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
