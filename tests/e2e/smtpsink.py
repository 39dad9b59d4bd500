"""Remote ends for the network tests: a recording SMTP server on Python's
aiosmtpd (Debian's python3-aiosmtpd) and the netstring helpers of QMTP."""
import asyncio
import threading

import evq

from aiosmtpd.controller import Controller


class Recorder:
    """aiosmtpd handler that records messages. Per test, while it runs:
    `rcpt_code`/`data_code` refuse RCPT/DATA with that reply, `delay` slows
    the answer to DATA's end. Counts EHLO sessions and simultaneous DATAs."""

    def __init__(self):
        self.messages = []   # (mail_from, [rcpt], content bytes)
        self.rcpt_code = None
        self.data_code = None
        self.delay = 0.0
        self.sessions = 0
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_code:
            return self.rcpt_code
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.data_code:
                return self.data_code
            with self.lock:
                self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            return "250 accepted"
        finally:
            with self.lock:
                self.active -= 1

    def rcpts(self):
        with self.lock:
            return sorted(r for m in self.messages for r in m[1])


class Sink:
    """A Recorder served on host:port (a free port unless given); stop() ends it."""

    def __init__(self, host="127.0.0.1", port=None, handler=None):
        self.handler = handler or Recorder()
        self.port = port or evq.free_port(host)
        self.controller = Controller(self.handler, hostname=host, port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()

    def wait(self, count=1, timeout=30):
        evq.wait_for(lambda: len(self.handler.messages) >= count, timeout,
                     what=f"{count} message(s) at the SMTP sink")
        return self.handler.messages


def netstring(b):
    return str(len(b)).encode() + b":" + b + b","


def read_netstring(f, eof_ok=False):
    """Reads one netstring from a binary file; at a clean end of input returns
    None if `eof_ok`, else raises EOFError."""
    n = b""
    while True:
        c = f.read(1)
        if not c:
            if eof_ok and not n:
                return None
            raise EOFError("connection closed in a netstring")
        if c == b":":
            break
        n += c
    data = f.read(int(n))
    if f.read(1) != b",":
        raise ValueError("netstring without its comma")
    return data
