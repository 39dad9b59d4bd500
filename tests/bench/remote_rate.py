#!/usr/bin/env python3
"""Remote delivery throughput of evqmail.

Builds a private tree (tests/e2e/evq.py), queues N one-recipient messages of
about 2 KB for remote.example (routed by control/smtproutes to a small
asyncio SMTP sink on 127.0.0.5), then starts qmail-send and measures the time
from start of delivery until the sink has accepted all N — once per
concurrencyremote value.

  python3 tests/bench/remote_rate.py [--count 5000] [--concurrency 20,100] [--sink python|c]

--sink c compiles the small epoll sink tests/bench/sink.c (needs cc) so the measurement is
not bounded by the Python sink. Each run also prints the CPU seconds spent by
qmail-send, qmail-rspawn, its qmail-remote children and the sink.

Run as root it re-executes itself as the unprivileged account `evqcheck`."""
import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time

from benchlib import CSink, body_text, reexec_unprivileged

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
SINK_IP = "127.0.0.5"


class Sink:
    """A minimal SMTP sink (PIPELINING offered) counting accepted messages."""

    def __init__(self):
        self.count = 0
        self.sessions = 0
        self.max_sessions = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._session, SINK_IP, 0, backlog=1024))
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _session(self, reader, writer):
        self.sessions += 1
        self.max_sessions = max(self.max_sessions, self.sessions)
        try:
            writer.write(b"220 sink ESMTP\r\n")
            while True:
                line = await reader.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-sink\r\n250 PIPELINING\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 go\r\n")
                    await writer.drain()
                    while True:
                        l = await reader.readline()
                        if not l or l == b".\r\n":
                            break
                    self.count += 1
                    writer.write(b"250 ok\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                else:
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self.sessions -= 1
            writer.close()


def proc_stat(pid):
    """(comm, ppid, own CPU s, reaped children's CPU s) from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    comm = s[s.index("(") + 1:s.rindex(")")]
    v = s[s.rindex(")") + 2:].split()
    hz = os.sysconf("SC_CLK_TCK")
    return comm, int(v[1]), (int(v[11]) + int(v[12])) / hz, (int(v[13]) + int(v[14])) / hz


def proc_cpu(pid):
    return proc_stat(pid)[2:]


def delivery_cpu(send_pid):
    """CPU seconds of qmail-send, qmail-rspawn and rspawn's reaped children."""
    out = {"qmail-send": proc_cpu(send_pid)[0]}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            comm, ppid, own, kids = proc_stat(int(d))
        except (OSError, ValueError):
            continue
        if ppid == send_pid and comm == "qmail-rspawn":
            out["qmail-rspawn"] = own
            out["qmail-remote"] = kids
    return out


def body(i):
    return body_text(i).replace("To: bench", "To: x@remote.example").encode()


def run(evq, count, conc, sink_kind):
    sink = CSink(SINK_IP) if sink_kind == "c" else Sink()
    t = evq.Tree()
    try:
        t.control("smtproutes", f"remote.example:{SINK_IP}:{sink.port}\n")
        t.control("concurrencyremote", f"{conc}\n")
        env = t.env()
        envelope = f"Fbench@{evq.FQDN}\0Tx@remote.example\0\0".encode()
        errors = []

        def worker(k, n):
            for i in range(k, count, n):
                r, w = os.pipe()
                os.write(w, envelope)
                os.close(w)
                p = subprocess.run([os.path.join(t.bin, "qmail-queue")], input=body(i), stdout=r, env=env)
                os.close(r)
                if p.returncode:
                    errors.append(p.returncode)
        ths = [threading.Thread(target=worker, args=(k, 8)) for k in range(8)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        if errors:
            raise SystemExit(f"injection failed: {errors[:5]}")
        t0 = time.monotonic()
        c0 = sink.cpu() if sink_kind == "c" else sum(os.times()[:2])
        t.start()
        todo = {}

        def done():
            # When qmail-send has processed the whole todo (one "new msg" each).
            if not todo and t.log().count("new msg ") >= count:
                todo["t"] = time.monotonic() - t0
                todo["n"] = sink.count
            return sink.count >= count
        evq.wait_for(done, timeout=600, interval=0.05,
                     what=lambda: f"{count} at the sink (have {sink.count})\n{t.log()[-2000:]}")
        dt = time.monotonic() - t0
        # The sink's CPU: its process, or (Python) this process, whose main thread only polls.
        cpu = delivery_cpu(t.send.pid)
        cpu["sink"] = (sink.cpu() if sink_kind == "c" else sum(os.times()[:2])) - c0
        print(f"concurrencyremote {conc}: {count} messages in {dt:.2f} s = {count / dt:.0f} msg/s "
              f"(max simultaneous sessions at the sink: {sink.max_sessions})", flush=True)
        print("  CPU s: " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()) +
              f"; wall {dt:.2f}", flush=True)
        if todo:
            print(f"  todo drained after {todo['t']:.2f} s with {todo['n']} delivered; "
                  f"the remaining {count - todo['n']} at {(count - todo['n']) / max(dt - todo['t'], 1e-3):.0f} msg/s",
                  flush=True)
    finally:
        t.cleanup()
        if sink_kind == "c":
            sink.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--concurrency", default="20,100")
    ap.add_argument("--sink", choices=("python", "c"), default="python")
    args = ap.parse_args()
    os.environ.setdefault("EVQ_BUILD", os.path.join(SRC, "build"))
    if os.getuid() == 0:
        return reexec_unprivileged(__file__)
    sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
    import evq
    for c in args.concurrency.split(","):
        run(evq, args.count, int(c), args.sink)
    return 0


if __name__ == "__main__":
    sys.exit(main())
