#!/usr/bin/env python3
"""evqmail against Debian's Postfix in one run, both as installed: evqmail
in a root system tree with qmail's accounts (qmail-smtpd under tcpserver
as qmaild/nofiles), Postfix as a private instance on a loopback port
(postfix_peer.py). Postfix's own load client, smtp-source, drives both.

SMTP ingest: N messages of about 2 KB at 1, 10 and 50 concurrent sessions,
one message per connection (how MX traffic arrives) and many per
connection (smtp-source -d), with delivery held on both sides (qmail-send
not started; Postfix's smtpd puts every message on hold). Prints msg/s,
the median of --repeat runs, and the ratio evqmail/Postfix.

  python3 tests/bench/compare.py [--messages 5000] [--sessions 1,10,50] [--repeat 3]

Needs root and Debian's postfix (scripts/deps bench); not part of make check."""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))

import postfix_peer  # noqa: E402

SENDER = "bench@example.net"


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--sessions", default="1,10,50")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
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
    t = evq.Tree(mode="system")
    base = tempfile.mkdtemp(prefix="evq-postfix-", dir=evq.system_dir())
    os.chmod(base, 0o755)
    pf = None
    try:
        _, evq_port = t.serve("qmail-smtpd", opts=("-R", "-H", "-c", "200", *t.daemon_opts()))
        pf_port = evq.free_port()
        pf = postfix_peer.Postfix(base, pf_port, evq.FQDN, hold=True)
        rcpt = f"joe@{evq.FQDN}"
        print(f"SMTP ingest, {a.messages} messages of {a.size} bytes, median of {a.repeat} "
              f"(smtp-source; evqmail as a root install, Postfix private instance)")
        print(f"{'shape':<28}{'sessions':>9}{'evqmail msg/s':>15}{'Postfix msg/s':>15}{'ratio':>8}")
        for reuse in (False, True):
            shape = "many per connection" if reuse else "one per connection"
            for n in [int(x) for x in a.sessions.split(",")]:
                rates = {}
                for name, port in (("evq", evq_port), ("pf", pf_port)):
                    runs = []
                    for _ in range(a.repeat):
                        runs.append(a.messages / smtp_source(port, n, a.messages, a.size, rcpt, reuse))
                        if name == "pf":
                            pf.purge()
                    rates[name] = statistics.median(runs)
                print(f"{shape:<28}{n:>9}{rates['evq']:>15.1f}{rates['pf']:>15.1f}"
                      f"{rates['evq'] / rates['pf']:>8.2f}", flush=True)
    finally:
        if pf:
            pf.stop()
        t.cleanup()
        subprocess.run(["rm", "-rf", base])
    return 0


if __name__ == "__main__":
    sys.exit(main())
