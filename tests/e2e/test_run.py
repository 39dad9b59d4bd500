"""The operator scripts: `scripts/run --demo` (what `make run` starts) and
scripts/qmailctl in plain (non-daemontools) mode on a private tree."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

import evq
from evq import wait_for

FQDN = evq.FQDN


def qmail_send_alive(pid):
    """pid is a live (not zombie) qmail-send."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)
        with open(f"/proc/{pid}/comm") as f:
            comm = f.read().strip()
    except FileNotFoundError:
        return False
    return comm == "qmail-send" and fields[1].split()[0] != "Z"


class RunDemoTest(unittest.TestCase):

    def test_run_demo_delivers_and_stops(self):
        d = tempfile.mkdtemp(prefix="evq-run-")
        self.addCleanup(shutil.rmtree, d, True)
        env = dict(os.environ, BUILD=evq.BUILD, EVQ_RUN_DIR=os.path.join(d, "run"),
                   EVQ_RUN_USER="demo", EVQ_DEMO_WAIT="30")
        p = subprocess.run(["bash", os.path.join(evq.SRC, "scripts/run"), "--demo"], env=env,
                           capture_output=True, timeout=120, cwd=d)
        out = p.stdout.decode("latin-1") + p.stderr.decode("latin-1")
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("Subject: evqmail demo", out)
        self.assertIn("Hello from evqmail.", out)
        self.assertRegex(out, r"Delivered-To: demo@")
        self.assertIn("status: exiting", out)
        self.assertIn("qmail-send exited cleanly", out)
        new = os.path.join(d, "run", "home", "demo", "Maildir", "new")
        self.assertEqual(len(os.listdir(new)), 1)
        self.assertFalse(os.path.exists(os.path.join(d, "run", "qmail-send.pid")))


class QmailctlTest(evq.TreeTest):

    def setUp(self):
        super().setUp()
        # The administrator's rc, without splogger so the log lands in
        # run/qmail-send.log where the test can read it.
        with open(self.t.path("rc"), "w") as f:
            f.write("#!/bin/sh\n"
                    f'exec env - PATH="{self.t.bin}:/usr/bin:/bin" QMAILHOME="{self.t.home}" \\\n'
                    f'qmail-start "`cat {self.t.home}/control/defaultdelivery`"\n')
        os.chmod(self.t.path("rc"), 0o755)
        self.addCleanup(self.kill_leftover)

    def ctl(self, verb, check=True):
        p = subprocess.run([os.path.join(self.t.bin, "qmailctl"), verb], env=self.t.env(),
                           capture_output=True, timeout=60)
        out = p.stdout.decode() + p.stderr.decode()
        if check:
            self.assertEqual(p.returncode, 0, f"qmailctl {verb}: {out}")
        return out

    def pid(self):
        try:
            return int(open(self.t.path("run", "qmail-send.pid")).read())
        except (FileNotFoundError, ValueError):
            return None

    def ctl_log(self):
        try:
            return open(self.t.path("run", "qmail-send.log"), encoding="latin-1").read()
        except FileNotFoundError:
            return ""

    def wait_ctl_log(self, pattern, count=1):
        rx = re.compile(pattern)
        return wait_for(lambda: len(rx.findall(self.ctl_log())) >= count,
                        what=f"/{pattern}/ x{count} in run/qmail-send.log\n{self.ctl_log()[-2000:]}")

    def kill_leftover(self):
        pid = self.pid()
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def test_qmailctl_help_and_installed(self):
        self.assertTrue(os.access(os.path.join(self.t.bin, "qmailctl"), os.X_OK),
                        "scripts/setup installs qmailctl into bin/")
        out = self.ctl("help")
        for verb in ("start", "stop", "restart", "stat", "queue", "reload", "doqueue", "cdb"):
            self.assertIn(verb, out)
        out = self.ctl("cdb")
        self.assertIn("nothing to rebuild", out)
        p = subprocess.run([os.path.join(self.t.bin, "qmailctl"), "bogus"], env=self.t.env(),
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 100)

    def test_qmailctl_start_stat_queue_doqueue_reload_stop(self):
        me = self.t.add_user("me")
        self.t.control("concurrencyremote", "0\n")    # remote mail stays queued
        self.assertIn("qmail-send: down", self.ctl("stat"))
        out = self.ctl("start")
        self.assertIn("started qmail-send", out)
        pid = self.pid()
        self.assertIsNotNone(pid)
        self.wait_ctl_log(r"status: local 0/\d+ remote 0/\d+")
        self.assertIn("already running", self.ctl("start"))
        out = self.ctl("stat")
        self.assertRegex(out, rf"qmail-send: up \(pid {pid}\) \d+ seconds")
        self.assertIn("messages in queue: 0", out)
        self.assertIn("messages in queue but not yet preprocessed: 0", out)

        # queue: a held remote message is listed.
        self.t.inject(b"Subject: out\n\nx\n", "joe@far.host")
        wait_for(lambda: "remote" in self.ctl("queue"), what="remote message listed")
        out = self.ctl("queue")
        self.assertIn("messages in queue: 1", out)
        self.assertIn("\tremote\tjoe@far.host", out)

        # doqueue: ALRM retries a deferred local delivery at once.
        self.t.dot_qmail(me, "", "|exit 111\n")
        self.t.inject(b"Subject: retry\n\nx\n", f"me@{FQDN}")
        self.wait_ctl_log(r"delivery \d+: deferral: ")
        self.t.dot_qmail(me, "", "./Maildir/\n")
        self.assertIn("ALRM", self.ctl("doqueue"))
        self.t.wait_maildir(os.path.join(me, "Maildir"), timeout=30)

        # reload: HUP rereads control/locals.
        with open(self.t.path("control", "locals"), "a") as f:
            f.write("af.mil\n")
        self.assertIn("HUP", self.ctl("reload"))
        self.t.inject(b"Subject: after reload\n\nx\n", "me@af.mil")
        self.t.wait_maildir(os.path.join(me, "Maildir"), count=2, timeout=30)

        # stop: TERM, waits, "exiting" in the log, pid file gone.
        out = self.ctl("stop")
        self.assertIn("stopped", out)
        self.assertIn("status: exiting", self.ctl_log())
        self.assertIsNone(self.pid())
        self.assertFalse(qmail_send_alive(pid))
        self.assertIn("qmail-send: down", self.ctl("stat"))
        self.assertIn("not running", self.ctl("stop"))

        # restart from down starts it again; the held message is still queued.
        starts = self.ctl_log().count("status: exiting")
        self.ctl("restart")
        self.assertIsNotNone(self.pid())
        self.assertNotEqual(self.pid(), pid)
        wait_for(lambda: re.search(r"status: local 0/\d+ remote 0/\d+",
                                   self.ctl_log().split("status: exiting")[-1]),
                 what="second start\n" + self.ctl_log()[-2000:])
        self.assertEqual(starts, 1)
        self.assertIn("\tremote\tjoe@far.host", self.ctl("queue"))
        self.ctl("stop")
        self.assertEqual(self.ctl_log().count("status: exiting"), 2)


if __name__ == "__main__":
    unittest.main()
