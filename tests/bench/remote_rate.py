#!/usr/bin/env python3
"""Remote delivery throughput of evqmail.

Builds a private tree (tests/e2e/evq.py), queues N one-recipient messages of
about 2 KB for remote.example (routed by control/smtproutes to a small
asyncio SMTP sink on 127.0.0.5), then starts qmail-send and measures the time
from start of delivery until the sink has accepted all N — once per
concurrencyremote value.

  python3 tests/bench/remote_rate.py [--count 5000] [--concurrency 20,100] [--sink python|c]

--sink c compiles a small epoll sink in C (needs cc) so the measurement is
not bounded by the Python sink. Each run also prints the CPU seconds spent by
qmail-send, qmail-rspawn, its qmail-remote children and the sink.

Run as root it re-executes itself as the unprivileged account `evqcheck`."""
import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import body_text, reexec_unprivileged

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


C_SINK = r"""
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
/* argv[1] = ip. Prints "port N", then one line per accepted message. */
struct conn { int fd, data; size_t n; char line[1024]; };
int main(int argc, char** argv) {
  (void)argc;
  int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  inet_pton(AF_INET, argv[1], &sa.sin_addr);
  if (bind(l, (struct sockaddr*)&sa, sizeof sa) || listen(l, 1024)) return 1;
  socklen_t len = sizeof sa;
  getsockname(l, (struct sockaddr*)&sa, &len);
  printf("port %d\n", ntohs(sa.sin_port));
  fflush(stdout);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  struct epoll_event evs[256];
  unsigned long count = 0;
  static char buf[65536], out[8192];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; ++i) {
      struct conn* c = evs[i].data.ptr;
      if (!c) {
        int fd;
        while ((fd = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          c = calloc(1, sizeof *c);
          c->fd = fd;
          struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
          (void)!write(fd, "220 sink ESMTP\r\n", 16);
        }
        continue;
      }
      ssize_t r = read(c->fd, buf, sizeof buf);
      if (r < 0 && errno == EAGAIN) continue;
      int closeit = r <= 0, counted = 0;
      size_t o = 0;
#define SAY(s) (memcpy(out + o, s, sizeof s - 1), o += sizeof s - 1)
      for (ssize_t k = 0; k < r && !closeit; ++k) {
        if (c->n < sizeof c->line - 1) c->line[c->n++] = buf[k];
        if (buf[k] != '\n') continue;
        c->line[c->n] = 0;
        c->n = 0;
        if (c->data) {
          if (!strcmp(c->line, ".\r\n")) { c->data = 0; ++count; counted = 1; SAY("250 ok\r\n"); }
        } else if (!strncasecmp(c->line, "EHLO", 4)) SAY("250-sink\r\n250 PIPELINING\r\n");
        else if (!strncasecmp(c->line, "DATA", 4)) { c->data = 1; SAY("354 go\r\n"); }
        else if (!strncasecmp(c->line, "QUIT", 4)) { SAY("221 bye\r\n"); closeit = 1; }
        else SAY("250 ok\r\n");
        if (o > sizeof out - 64) { (void)!write(c->fd, out, o); o = 0; }
      }
      if (o) (void)!write(c->fd, out, o);
      if (counted) { printf("%lu\n", count); fflush(stdout); }
      if (closeit) { close(c->fd); free(c); }
    }
  }
}
"""


class CSink:
    """The same sink in C (epoll, one process): its count read from its stdout."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sink-")
        src = os.path.join(self.dir, "sink.c")
        with open(src, "w") as f:
            f.write(C_SINK)
        exe = os.path.join(self.dir, "sink")
        subprocess.run(["cc", "-O2", "-o", exe, src], check=True)
        self.proc = subprocess.Popen([exe, SINK_IP], stdout=subprocess.PIPE)
        self.port = int(self.proc.stdout.readline().split()[1])
        self.count = 0
        self.max_sessions = "?"
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.count = int(line)

    def cpu(self):
        return proc_cpu(self.proc.pid)[0]

    def close(self):
        self.proc.kill()
        self.proc.wait()


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
    sink = CSink() if sink_kind == "c" else Sink()
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
