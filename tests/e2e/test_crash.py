"""Crash safety of the queue: 1,000 messages are queued while qmail-send and
its helpers are killed with SIGKILL at random moments and restarted; in the
end every message has been delivered at least once and the queue is empty."""
import os
import random
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import evq

N = 1000


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

    def test_kill_and_restart_loses_nothing(self):
        t = self.t
        joe = t.add_user("joe")
        md = os.path.join(joe, "Maildir")
        t.start()
        done = threading.Event()
        rng = random.Random(1234)
        kills = 0

        def killer():
            nonlocal kills
            while not done.is_set():
                time.sleep(rng.uniform(0.2, 0.8))
                t.kill_group()
                t.send.wait()
                kills += 1
                start_fresh(t)

        k = threading.Thread(target=killer)
        k.start()
        try:
            with ThreadPoolExecutor(8) as ex:
                list(ex.map(lambda n: qq(t, n), range(N)))
        finally:
            done.set()
            k.join()
        self.assertGreater(kills, 0)
        # A last clean run delivers whatever is left.
        t.signal(signal.SIGALRM)

        def ids(counts=None):
            seen = set()
            for sub in ("new", "cur"):
                d = os.path.join(md, sub)
                for f in os.listdir(d):
                    try:
                        with open(os.path.join(d, f), "rb") as fh:
                            m = re.search(rb"^X-Crash-Id: (\d+)$", fh.read(4096), re.M)
                    except FileNotFoundError:
                        continue
                    if m:
                        seen.add(int(m.group(1)))
                        if counts is not None:
                            counts[int(m.group(1))] = counts.get(int(m.group(1)), 0) + 1
            return seen

        evq.wait_for(lambda: len(ids()) >= N, timeout=40, interval=0.2,
                     what=f"{N} distinct messages delivered\n" + t.log()[-2000:])
        counts = {}
        self.assertEqual(ids(counts), set(range(N)))
        # A figure, not a limit: deliveries repeated because qmail-send died
        # between a delivery and its done mark (issue "Speed I": goal <= 0.5 %).
        twice = sum(c - 1 for c in counts.values())
        print(f"\ncrash test: {N} messages, {kills} kills, {twice} delivered again "
              f"({100.0 * twice / N:.2f} %)", flush=True)
        # Empty but for debris: a kill between "unlink info" and qmail-clean's
        # removal of mess/S/N leaves a file that, as in qmail, only the
        # 36-hour cleanup (queue.md 4.8) removes. At most one per kill.
        q = t.path("queue")

        def leftovers():
            left = []
            for d in ("todo", "intd"):
                left += [f"{d}/{f}" for f in os.listdir(os.path.join(q, d))]
            for d in ("info", "local", "remote"):
                for s in os.listdir(os.path.join(q, d)):
                    left += [f"{d}/{s}/{f}" for f in os.listdir(os.path.join(q, d, s))]
            return left

        evq.wait_for(lambda: not leftovers(), timeout=20, what="empty queue: " + " ".join(leftovers()))
        debris = [f for s in os.listdir(os.path.join(q, "mess")) for f in os.listdir(os.path.join(q, "mess", s))]
        self.assertLessEqual(len(debris), kills)
