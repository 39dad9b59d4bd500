"""Crash safety of the queue: messages are queued while qmail-send and its
helpers are killed with SIGKILL at random moments and restarted; in the end
every message has been delivered at least once and the queue is empty.
Once through qmail-queue directly, once through qmail-smtpd, which hands
its messages to qmail-queued (killed with the rest, and on its own)."""
import os
import random
import re
import signal
import smtplib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import evq

N = 1000
FINISHING = 32  # messages qmail-send finishes at once (queue/scheduler.h kMaxFinishing)
N_SMTP = 300


def qq(t, n):
    msg = f"X-Crash-Id: {n}\nSubject: crash {n}\n\nbody {n}\n".encode()
    for _ in range(20):
        if t.queue(msg, "joe@test.example", ["joe@test.example"], check=False) == 0:
            return
    raise AssertionError(f"qmail-queue kept failing for message {n}")


def start_fresh(t):
    """Starts qmail-send and waits for *its* first status line, so that a
    signal sent next finds the handlers installed."""
    off = len(t.log())
    t.start()
    evq.wait_for(lambda: re.search(r"status: local \d+/\d+ remote", t.log()[off:]), timeout=20,
                 what="qmail-send restart")


class CrashTest(evq.TreeTest):

    def setUp(self):
        super().setUp()
        self.md = os.path.join(self.t.add_user("joe"), "Maildir")

    def under_kills(self, count, inject, threads=8, daemon_alone=False):
        """Runs inject(n) for n < count in `threads` threads while a killer
        SIGKILLs the whole family (or, with `daemon_alone`, now and then only
        qmail-queued) and restarts it; returns the number of kills."""
        t = self.t
        t.start()
        done = threading.Event()
        rng = random.Random(1234)
        kills = 0

        def killer():
            nonlocal kills
            while not done.is_set():
                time.sleep(rng.uniform(0.2, 0.8))
                if daemon_alone and rng.random() < 0.5:
                    for p, a in t.processes().items():
                        if a[0].endswith(b"qmail-queued"):
                            os.kill(p, signal.SIGKILL)
                            kills += 1
                    continue
                t.kill_group()
                t.send.wait()
                kills += 1
                start_fresh(t)

        k = threading.Thread(target=killer)
        k.start()
        try:
            with ThreadPoolExecutor(threads) as ex:
                list(ex.map(inject, range(count)))
        finally:
            done.set()
            k.join()
        self.assertGreater(kills, 0)
        # A last clean run delivers whatever is left (a fresh family, so
        # qmail-queued runs again too).
        t.kill_group()
        t.send.wait()
        start_fresh(t)
        t.signal(signal.SIGALRM)
        return kills

    def ids(self, counts=None):
        seen = set()
        for sub in ("new", "cur"):
            d = os.path.join(self.md, sub)
            for f in os.listdir(d):
                try:
                    with open(os.path.join(d, f), "rb") as fh:
                        m = re.search(rb"^X-Crash-Id: (\d+)\r?$", fh.read(4096), re.M)
                except FileNotFoundError:
                    continue
                if m:
                    seen.add(int(m.group(1)))
                    if counts is not None:
                        counts[int(m.group(1))] = counts.get(int(m.group(1)), 0) + 1
        return seen

    def check_all_delivered(self, count, kills, what, in_flight=1):
        """`in_flight`: messages one kill may catch half-written (each leaves
        debris that only the 36-hour cleanup removes)."""
        t = self.t
        evq.wait_for(lambda: len(self.ids()) >= count, timeout=40, interval=0.2,
                     what=f"{count} distinct messages delivered\n" + t.log()[-2000:])
        counts = {}
        self.assertEqual(self.ids(counts), set(range(count)))
        # A figure, not a limit: deliveries repeated because qmail-send died
        # between a delivery and its done mark (issue "Speed I": goal <= 0.5 %),
        # or a message queued whose caller never heard the answer.
        twice = sum(c - 1 for c in counts.values())
        print(f"\ncrash test ({what}): {count} messages, {kills} kills, {twice} delivered again "
              f"({100.0 * twice / count:.2f} %)", flush=True)
        # Empty but for debris: a kill between "unlink info" and qmail-clean's
        # removal of mess/S/N leaves a file that, as in qmail, only the
        # 36-hour cleanup (queue.md 4.8) removes: at most FINISHING per kill
        # (qmail-send's kMaxFinishing; qmail had one). So does a queueing
        # program killed before todo/N (mess/S/N and intd/N).
        q = t.path("queue")
        todo = lambda: set(os.listdir(os.path.join(q, "todo")))

        def leftovers():
            left = [f"todo/{f}" for f in todo()]
            left += [f"intd/{f}" for f in os.listdir(os.path.join(q, "intd")) if in_flight == 1 or f in todo()]
            for d in ("info", "local", "remote"):
                for s in os.listdir(os.path.join(q, d)):
                    left += [f"{d}/{s}/{f}" for f in os.listdir(os.path.join(q, d, s))]
            return left

        evq.wait_for(lambda: not leftovers(), timeout=20, what="empty queue: " + " ".join(leftovers()))
        debris = [f for s in os.listdir(os.path.join(q, "mess")) for f in os.listdir(os.path.join(q, "mess", s))]
        self.assertLessEqual(len(debris), kills * (in_flight + FINISHING))

    def test_kill_and_restart_loses_nothing(self):
        kills = self.under_kills(N, lambda n: qq(self.t, n))
        self.check_all_delivered(N, kills, "qmail-queue")

    def test_kill_while_smtpd_queues_through_the_daemon(self):
        # Every message answered 250 must be delivered; one answered 4xx,
        # or whose answer was lost with the connection, is sent again.
        t = self.t
        tcpserver = None if os.path.exists(os.path.join(t.bin, "tcpserver")) else "/usr/bin/tcpserver"
        port = t.serve("qmail-smtpd", opts=("-R", "-H", *t.daemon_opts()), tcpserver=tcpserver)[1]

        def smtp(n):
            msg = f"X-Crash-Id: {n}\r\nSubject: crash {n}\r\n\r\nbody {n}\r\n".encode()
            for _ in range(40):
                try:
                    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                        s.sendmail("joe@test.example", ["joe@test.example"], msg)
                    return
                except (smtplib.SMTPException, OSError):
                    time.sleep(0.05)
            raise AssertionError(f"qmail-smtpd kept refusing message {n}")

        kills = self.under_kills(N_SMTP, smtp, threads=4, daemon_alone=True)
        self.check_all_delivered(N_SMTP, kills, "qmail-smtpd and qmail-queued", in_flight=4)
