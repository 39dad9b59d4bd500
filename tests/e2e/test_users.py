"""End-to-end tests of users/assign + users/cdb (qmail-newu), qmail-getpw,
qmail-pw2u, the small .qmail programs (preline, forward, condredirect,
bouncesaying, except) and qmail-lspawn driven over pipes like qmail-send."""
import os
import select
import shutil
import struct
import subprocess
import time
import unittest

import evq


def cdb_records(path):
    """All (key, value) records of a cdb file, in file order."""
    with open(path, "rb") as f:
        data = f.read()
    end = min(struct.unpack_from("<I", data, 8 * i)[0] for i in range(256))
    pos, out = 2048, []
    while pos < end:
        klen, dlen = struct.unpack_from("<II", data, pos)
        pos += 8
        out.append((data[pos:pos + klen], data[pos + klen:pos + klen + dlen]))
        pos += klen + dlen
    return out


class Spawner:
    """qmail-lspawn (or qmail-rspawn) on pipes, as qmail-send drives it."""

    def __init__(self, tree, prog="qmail-lspawn", delivery="./Maildir/"):
        args = [os.path.join(tree.bin, prog)] + ([delivery] if prog == "qmail-lspawn" else [])
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=tree.env(), cwd="/")
        self.buf = b""

    def read(self, n=None, until=None, timeout=20):
        deadline = time.monotonic() + timeout
        fd = self.p.stdout.fileno()
        while True:
            if n is not None and len(self.buf) >= n:
                out, self.buf = self.buf[:n], self.buf[n:]
                return out
            if until is not None and until in self.buf:
                i = self.buf.index(until) + 1
                out, self.buf = self.buf[:i], self.buf[i:]
                return out
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"spawner did not answer; have {self.buf!r}")
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise AssertionError(f"spawner closed its output; have {self.buf!r}")
                self.buf += chunk

    def hello(self):
        return self.read(1)[0]

    def request(self, slot, mess, sender, rcpt):
        self.p.stdin.write(bytes([slot]) + mess.encode() + b"\0" + sender.encode() + b"\0" +
                           rcpt.encode() + b"\0")
        self.p.stdin.flush()

    def report(self):
        head = self.read(2)  # slot byte (may be 0) and letter
        text = self.read(until=b"\0")
        return head[0], chr(head[1]), text[:-1].decode("latin-1")

    def close(self, timeout=20):
        self.p.stdin.close()
        code = self.p.wait(timeout)
        self.p.stdout.close()
        self.p.stderr.close()
        return code


class UsersTest(evq.TreeTest):
    def write_assign(self, text):
        with open(self.t.path("users", "assign"), "w") as f:
            f.write(text)

    def test_newu_compiles_assign(self):
        self.write_assign("=Joe:joe:507:100:/home/joe:::\n"
                          "+joe-:joe:507:100:/home/joe:-::\n"
                          "+autoturn-:qmaild:7770:2108:/var/qmail/autoturn:-::\n"
                          "+example.com-:ex1:510:51:/home/popmail/e/ex1/DOMAINS/example.com:-::\n"
                          "+:alias:7790:2108:/var/qmail/alias:-::\n.\n")
        self.t.run("qmail-newu")
        recs = cdb_records(self.t.path("users", "cdb"))
        self.assertEqual(recs, [
            (b"!joe\0", b"joe\x00507\x00100\x00/home/joe\x00\x00"),
            (b"!joe-", b"joe\x00507\x00100\x00/home/joe\x00-\x00"),
            (b"!autoturn-", b"qmaild\x007770\x002108\x00/var/qmail/autoturn\x00-\x00"),
            (b"!example.com-", b"ex1\x00510\x0051\x00/home/popmail/e/ex1/DOMAINS/example.com\x00-\x00"),
            (b"!", b"alias\x007790\x002108\x00/var/qmail/alias\x00-\x00"),
            (b"", b"-"),
        ])
        self.assertFalse(os.path.exists(self.t.path("users", "cdb.tmp")))

    def test_newu_rejects_bad_format_and_keeps_old_cdb(self):
        self.write_assign("=joe:joe:507:100:/home/joe:::\n.\n")
        self.t.run("qmail-newu")
        with open(self.t.path("users", "cdb"), "rb") as f:
            old = f.read()
        for bad in ("=joe:joe:507:100:/home/joe:::\n",          # no final '.'
                    "=joe:joe:507:100:/home/joe::\n.\n",        # too few colons
                    "nocolon\n.\n"):
            self.write_assign(bad)
            p = self.t.run("qmail-newu", check=False)
            self.assertEqual(p.returncode, 111)
            self.assertEqual(p.stderr, b"qmail-newu: fatal: bad format in users/assign\n")
            with open(self.t.path("users", "cdb"), "rb") as f:
                self.assertEqual(f.read(), old)
        os.unlink(self.t.path("users", "assign"))
        p = self.t.run("qmail-newu", check=False)
        self.assertEqual(p.returncode, 111)
        self.assertIn(b"qmail-newu: fatal: unable to open users/assign", p.stderr)

    def test_getpw_single_user_catch_all(self):
        p = self.t.run("qmail-getpw", "Some-Body")
        self.assertEqual(p.stdout, b"alias\0%d\0%d\0%s\0-\0Some-Body\0" %
                         (os.getuid(), os.getgid(), self.t.path("alias").encode()))
        p = self.t.run("qmail-getpw", "alias-uucp-Joe")
        self.assertEqual(p.stdout, b"alias\0%d\0%d\0%s\0-\0uucp-Joe\0" %
                         (os.getuid(), os.getgid(), self.t.path("alias").encode()))
        self.assertEqual(self.t.run("qmail-getpw", check=False).returncode, 100)

    def test_pw2u(self):
        home = os.path.join(self.t.base, "home", "joe")
        os.makedirs(home)
        uid, gid = os.getuid(), os.getgid()
        passwd = (f"root:x:0:0:root:/root:/bin/sh\n"
                  f"alias:*:{uid}:{gid}::{self.t.path('alias')}:/bin/false\n"
                  f"joe:x:{uid}:{gid}:Joe:{home}:/bin/sh\n"
                  f"Upper:x:{uid}:{gid}::{home}:/bin/sh\n"
                  f"gone:x:{uid}:{gid}::{self.t.base}/nowhere:/bin/sh\n")
        with open(self.t.path("users", "subusers"), "w") as f:
            f.write("help:joe:helpdesk:\n")
        with open(self.t.path("users", "append"), "w") as f:
            f.write("+autoturn-:qmaild:7770:2108:/var/qmail/autoturn:-::\n")
        p = self.t.run("qmail-pw2u", input=passwd.encode())
        a = self.t.path("alias")
        self.assertEqual(p.stdout.decode(),
                         f"+:alias:{uid}:{gid}:{a}:-::\n"
                         f"=alias:alias:{uid}:{gid}:{a}:::\n"
                         f"+alias-:alias:{uid}:{gid}:{a}:-::\n"
                         f"=joe:joe:{uid}:{gid}:{home}:::\n"
                         f"+joe-:joe:{uid}:{gid}:{home}:-::\n"
                         f"=help:joe:{uid}:{gid}:{home}:-:helpdesk:\n"
                         f"+help-:joe:{uid}:{gid}:{home}:-:helpdesk-:\n"
                         "+autoturn-:qmaild:7770:2108:/var/qmail/autoturn:-::\n"
                         ".\n")
        # The output is valid users/assign input.
        self.write_assign(p.stdout.decode())
        self.t.run("qmail-newu")
        # -h: a missing home is fatal; no alias account is fatal; bad option 100.
        p = self.t.run("qmail-pw2u", "-h", input=passwd.encode(), check=False)
        self.assertEqual(p.returncode, 111)
        self.assertIn(b"qmail-pw2u: fatal: unable to stat", p.stderr)
        p = self.t.run("qmail-pw2u", input=passwd.replace("alias:", "nobody:").encode(), check=False)
        self.assertEqual(p.returncode, 111)
        self.assertEqual(self.t.run("qmail-pw2u", "-x", input=b"", check=False).returncode, 100)


class ToolsTest(evq.TreeTest):
    DT = "Delivered-To: joe@test.example\n"
    RP = "Return-Path: <s@x.example>\n"
    UF = "From s@x.example Thu Jan  1 00:00:00 2024\n"

    def tool_env(self, **extra):
        e = {"UFLINE": self.UF, "RPLINE": self.RP, "DTLINE": self.DT,
             "SENDER": "s@x.example", "NEWSENDER": "owner@x.example"}
        e.update(extra)
        return e

    def test_preline(self):
        msg = b"Subject: hi\n\nbody\n"
        p = self.t.run("preline", "cat", input=msg, env=self.tool_env())
        self.assertEqual(p.stdout, (self.UF + self.RP + self.DT).encode() + msg)
        p = self.t.run("preline", "-f", "cat", input=msg, env=self.tool_env())
        self.assertEqual(p.stdout, (self.RP + self.DT).encode() + msg)
        p = self.t.run("preline", "-dr", "cat", input=msg, env=self.tool_env())
        self.assertEqual(p.stdout, self.UF.encode() + msg)
        p = self.t.run("preline", "sh", "-c", "cat >/dev/null; exit 77", input=msg,
                       env=self.tool_env(), check=False)
        self.assertEqual(p.returncode, 77)
        self.assertEqual(self.t.run("preline", input=msg, env=self.tool_env(), check=False).returncode, 100)
        self.assertEqual(self.t.run("preline", "cat", input=msg, check=False).returncode, 100)
        p = self.t.run("preline", "/nonexistent/prog", input=b"", env=self.tool_env(), check=False)
        self.assertEqual(p.returncode, 100)

    def test_except_and_bouncesaying(self):
        def code(*args):
            return self.t.run(*args, input=b"", check=False).returncode
        self.assertEqual(code("except", "true"), 100)
        self.assertEqual(code("except", "false"), 0)
        self.assertEqual(code("except", "sh", "-c", "exit 111"), 111)
        self.assertEqual(code("except"), 100)
        p = self.t.run("bouncesaying", "Go away.", input=b"", check=False)
        self.assertEqual((p.returncode, p.stderr), (100, b"Go away.\n"))
        self.assertEqual(code("bouncesaying", "No.", "true"), 100)
        self.assertEqual(code("bouncesaying", "No.", "false"), 0)
        self.assertEqual(code("bouncesaying", "No.", "sh", "-c", "exit 111"), 111)
        self.assertEqual(code("bouncesaying"), 100)

    def fake_queue(self, code=0):
        """A qmail-queue stand-in: message from fd 0, envelope from fd 1."""
        d = os.path.join(self.t.base, "qq")
        os.makedirs(d, exist_ok=True)
        s = os.path.join(d, "fake-qmail-queue")
        with open(s, "w") as f:
            f.write(f"#!/bin/sh\ncat > {d}/msg\ncat <&1 > {d}/env\nexit {code}\n")
        os.chmod(s, 0o755)
        return s, d

    def read_qq(self, d):
        with open(os.path.join(d, "msg"), "rb") as f:
            msg = f.read()
        with open(os.path.join(d, "env"), "rb") as f:
            env = f.read()
        return msg, env

    def message_file(self, data):
        p = os.path.join(self.t.base, "message")
        with open(p, "wb") as f:
            f.write(data)
        return p

    def run_with_file(self, prog, path, *args, env=None):
        with open(path, "rb") as f:
            return subprocess.run([os.path.join(self.t.bin, prog), *args], stdin=f,
                                  env=self.t.env(**(env or {})), capture_output=True, timeout=30)

    def test_forward(self):
        qq, d = self.fake_queue()
        msg = b"Subject: fw\n\nbody\n"
        p = self.t.run("forward", "a@x.example", "b@y.example", input=msg,
                       env=self.tool_env(QMAILQUEUE=qq))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"forward: qp ", p.stderr)
        m, e = self.read_qq(d)
        self.assertEqual(m, self.DT.encode() + msg)
        self.assertEqual(e, b"Fowner@x.example\0Ta@x.example\0Tb@y.example\0\0")
        qq31, _ = self.fake_queue(31)
        p = self.t.run("forward", "a@x.example", input=msg, env=self.tool_env(QMAILQUEUE=qq31), check=False)
        self.assertEqual(p.returncode, 100)
        qq53, _ = self.fake_queue(53)
        p = self.t.run("forward", "a@x.example", input=msg, env=self.tool_env(QMAILQUEUE=qq53), check=False)
        self.assertEqual(p.returncode, 111)
        self.assertEqual(self.t.run("forward", "a@x", input=msg, check=False).returncode, 100)

    def test_condredirect(self):
        qq, d = self.fake_queue()
        msg = b"Subject: cr\n\nbody\n"
        path = self.message_file(msg)
        env = self.tool_env(QMAILQUEUE=qq)
        # The program reads the message; condredirect rewinds before forwarding.
        p = self.run_with_file("condredirect", path, "new@z.example", "sh", "-c", "cat >/dev/null", env=env)
        self.assertEqual(p.returncode, 99, p.stderr)
        m, e = self.read_qq(d)
        self.assertEqual(m, self.DT.encode() + msg)
        self.assertEqual(e, b"Fs@x.example\0Tnew@z.example\0\0")
        self.assertEqual(self.run_with_file("condredirect", path, "n@z", "false", env=env).returncode, 0)
        self.assertEqual(self.run_with_file("condredirect", path, "n@z", "/nonexistent/x", env=env).returncode, 0)
        self.assertEqual(self.run_with_file("condredirect", path, "n@z", "sh", "-c", "exit 111",
                                            env=env).returncode, 111)
        self.assertEqual(self.run_with_file("condredirect", path, "n@z", env=env).returncode, 100)


class LspawnTest(evq.TreeTest):
    def setUp(self):
        super().setUp()
        self.joe = self.t.add_user("joe")
        self.t.dot_qmail(self.joe, "", "")
        self.n = 0

    def message(self, data=b"Subject: lspawn\n\nhello\n"):
        self.n += 1
        n = 900000 + self.n
        rel = f"{n % 23}/{n}"
        with open(self.t.path("queue", "mess", rel), "wb") as f:
            f.write(data)
        return rel

    def spawner(self):
        s = Spawner(self.t)
        self.addCleanup(lambda: s.p.poll() is None and s.p.kill())
        self.assertEqual(s.hello(), 120)
        return s

    def test_delivery_and_errors(self):
        s = self.spawner()
        m = self.message()
        s.request(0, m, "s@x.example", "joe@" + evq.FQDN)
        slot, letter, text = s.report()
        self.assertEqual((slot, letter), (0, "K"), text)
        self.assertEqual(self.t.maildir_count(os.path.join(self.joe, "Maildir")), 1)
        # No '@': permanent failure; '@domain' alone: the trash address.
        s.request(3, m, "s@x.example", "joe")
        self.assertEqual(s.report(), (3, "D", "Sorry, address must include host name. (#5.1.3)\n"))
        s.request(4, m, "s@x.example", "@" + evq.FQDN)
        self.assertEqual(s.report()[:2], (4, "K"))
        # Bad message names and slots.
        s.request(5, "../../x", "s", "joe@" + evq.FQDN)
        self.assertEqual(s.report()[:2], (5, "D"))
        s.request(200, m, "s", "joe@" + evq.FQDN)
        self.assertEqual(s.report()[:2], (200, "Z"))
        s.request(6, "1/424242", "s", "joe@" + evq.FQDN)
        self.assertEqual(s.report(), (6, "Z", "qmail-spawn unable to open message. (#4.3.0)\n"))
        # Unknown user: qmail-getpw's catch-all alias has no .qmail-nobody.
        s.request(7, m, "s@x.example", "nobody@" + evq.FQDN)
        slot, letter, text = s.report()
        self.assertEqual((slot, letter), (7, "D"), text)
        self.assertIn("5.1.1", text)
        # postmaster: alias/.qmail-postmaster is empty -> the default delivery.
        s.request(8, m, "s@x.example", "Postmaster@" + evq.FQDN)
        self.assertEqual(s.report()[:2], (8, "K"))
        self.assertEqual(self.t.maildir_count(self.t.path("alias", "Maildir")), 1)
        self.assertEqual(s.close(), 0)

    def test_concurrent_deliveries_and_exit(self):
        s = self.spawner()
        m = self.message()
        for slot in range(5):
            s.request(slot, m, "s@x.example", f"joe@{evq.FQDN}")
        got = sorted(s.report()[:2] for _ in range(5))
        self.assertEqual(got, [(i, "K") for i in range(5)])
        self.assertEqual(self.t.maildir_count(os.path.join(self.joe, "Maildir")), 5)
        self.assertEqual(s.close(), 0)

    def test_unreadable_cdb_defers(self):
        if os.getuid() == 0:
            self.skipTest("root reads everything")
        os.chmod(self.t.path("users", "cdb"), 0)
        s = self.spawner()
        s.request(0, self.message(), "s", "joe@" + evq.FQDN)
        self.assertEqual(s.report(), (0, "Z", "Trouble reading users/cdb in qmail-lspawn.\n"))
        s.close()

    def test_exit_code_mapping_with_standin_qmail_local(self):
        # qmail-local is a replaceable interface: a stand-in shows the exact
        # argument order and how each exit code is reported.
        real = self.t.path("bin", "qmail-local")
        shutil.move(real, real + ".real")
        with open(real, "w") as f:
            f.write('#!/bin/sh\n'
                    'echo "args: $*"\n'
                    'case "$6" in\n'
                    '  kill) kill -9 $$ ;;\n'
                    '  long) head -c 5000 /dev/zero | tr "\\0" x ;;\n'
                    '  exit*) exit "${6#exit}" ;;\n'
                    'esac\n'
                    'exit 0\n')
        os.chmod(real, 0o755)
        s = self.spawner()
        m = self.message()
        s.request(0, m, "s@x.example", "Joe-Exit0@Test.Example")
        self.assertEqual(s.report(), (0, "K", f"args: -- joe {self.joe} Joe-Exit0 - Exit0 "
                                              "Test.Example s@x.example ./Maildir/\n"))
        for code, letter in ((111, "Z"), (71, "Z"), (74, "Z"), (75, "Z"), (100, "D"), (1, "D")):
            s.request(1, m, "", f"joe-exit{code}@x.example")
            self.assertEqual(s.report()[:2], (1, letter), code)
        s.request(2, m, "", "joe-kill@x.example")
        self.assertEqual(s.report(), (2, "Z", "qmail-local crashed.\n"))
        s.request(2, m, "", "joe-long@x.example")
        slot, letter, text = s.report()
        self.assertEqual((slot, letter), (2, "K"))
        self.assertLessEqual(len(text), 3000)
        self.assertTrue(text.endswith("\nError report too long, sorry.\n"))
        self.assertEqual(s.close(), 0)

    def test_uid_zero_refused(self):
        self.t.assign.append(f"=rooty:root:0:0:{self.joe}:::")
        self.t.newu()
        s = self.spawner()
        s.request(0, self.message(), "s", "rooty@" + evq.FQDN)
        self.assertEqual(s.report(), (0, "Z", "Not allowed to perform deliveries as root.\n"))
        s.close()

    def test_rspawn_speaks_the_spawn_protocol(self):
        # Without SPAWN_WIDE_SLOTS (set only by qmail-start) qmail-rspawn
        # offers the classic one-byte maximum and checks requests like lspawn.
        s = Spawner(self.t, prog="qmail-rspawn")
        self.assertEqual(s.hello(), 255)
        s.request(9, "1/2", "s@x", "r@remote.example")
        slot, letter, text = s.report()
        self.assertEqual((slot, letter), (9, "Z"))
        self.assertIn("unable to open message", text)
        self.assertEqual(s.close(), 0)

if __name__ == "__main__":
    unittest.main()
