"""End-to-end tests of evqmail's opt-in bounce controls (queue.md 4.7
[WEAKNESS]): control/bounceformat `rfc3464` (multipart/report whose first part
is the QSBMF text) and control/bouncemaxbytes (headers only past the cap),
read by Python's email package from the sender's Maildir."""
import email
import os
import signal

import evq

SEPARATOR = "--- Below this line is a copy of the message.\n"


def qq(t, msg, sender, rcpts):
    """Queues one message through bin/qmail-queue with an exact envelope."""
    t.queue(msg, sender, rcpts)


class DsnTest(evq.TreeTest):

    def setUp(self):
        super().setUp()
        self.joe = self.t.add_user("joe")
        self.md = os.path.join(self.joe, "Maildir")

    def bounces(self, count):
        self.t.wait_maildir(self.md, count)
        msgs = [email.message_from_bytes(m.as_bytes()) for m in self.t.maildir(self.md)]
        return [m for m in msgs if m["Subject"] == "failure notice"]

    def raw_bounces(self, count):
        self.t.wait_maildir(self.md, count)
        return [m.as_bytes() for m in self.t.maildir(self.md)]

    def report_parts(self, b):
        self.assertEqual(b.get_content_type(), "multipart/report")
        self.assertEqual(b.get_param("report-type"), "delivery-status")
        self.assertEqual(b["MIME-Version"], "1.0")
        self.assertEqual(b["Return-Path"], "<>")
        self.assertEqual(b.defects, [])
        parts = b.get_payload()
        self.assertEqual(len(parts), 3)
        self.assertEqual(parts[0].get_content_type(), "text/plain")
        self.assertEqual(parts[1].get_content_type(), "message/delivery-status")
        return parts

    def test_rfc3464_report(self):
        t = self.t
        t.control("bounceformat", "rfc3464\n")
        t.dot_qmail(self.joe, "-fail", "|exit 100\n")
        t.dot_qmail(self.joe, "-say", f"|{t.bin}/bouncesaying 'Go away. (#5.7.1)'\n")
        t.start()
        qq(t, "Subject: hello\n\nbody\n", "joe@test.example",
           ["nobody@test.example", "joe-fail@test.example", "joe-say@test.example"])
        t.wait_queue_empty()
        (b,) = self.bounces(1)
        self.assertEqual(b["To"], "joe@test.example")
        parts = self.report_parts(b)

        text = parts[0].get_payload()
        self.assertTrue(text.startswith(
            "Hi. This is the qmail-send program at test.example.\n"
            "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\n\n<"), text)
        self.assertTrue(text.endswith(SEPARATOR), text)

        blocks = parts[1].get_payload()
        self.assertEqual(len(blocks), 4)
        self.assertEqual(blocks[0]["Reporting-MTA"], "dns; test.example")
        self.assertRegex(blocks[0]["Arrival-Date"], r"^\d+ \w{3} \d{4} \d\d:\d\d:\d\d -0000$")
        rcpt = {blk["Final-Recipient"]: blk for blk in blocks[1:]}
        self.assertEqual(set(rcpt), {"rfc822; nobody@test.example", "rfc822; joe-fail@test.example",
                                     "rfc822; joe-say@test.example"})
        for blk in rcpt.values():
            self.assertEqual(blk["Action"], "failed")
            self.assertTrue(blk["Diagnostic-Code"].startswith("x-unix; "), blk["Diagnostic-Code"])
        self.assertEqual(rcpt["rfc822; nobody@test.example"]["Status"], "5.1.1")
        self.assertEqual(rcpt["rfc822; joe-say@test.example"]["Status"], "5.7.1")
        self.assertIn("Go away. (#5.7.1)", rcpt["rfc822; joe-say@test.example"]["Diagnostic-Code"])
        self.assertEqual(rcpt["rfc822; joe-fail@test.example"]["Status"], "5.0.0")

        self.assertEqual(parts[2].get_content_type(), "message/rfc822")
        (orig,) = parts[2].get_payload()
        self.assertEqual(orig["Return-Path"], "<joe@test.example>")
        self.assertEqual(orig["Subject"], "hello")
        self.assertEqual(orig.get_payload(), "body\n")
        self.assertNotIn(b"\r", self.raw_bounces(1)[0])

    def test_part_one_is_the_qsbmf_text(self):
        # The same failure bounced once as RFC 3464 and, after HUP without
        # the control, once as QSBMF: part 1 equals QSBMF's text through the separator.
        t = self.t
        t.control("bounceformat", "rfc3464\n")
        t.start()
        qq(t, "Subject: one\n\nx\n", "joe@test.example", ["nobody@test.example"])
        self.raw_bounces(1)
        t.remove_control("bounceformat")
        t.signal(signal.SIGHUP)
        # A message queued after the HUP is handled after it.
        qq(t, "Subject: two\n\nx\n", "joe@test.example", ["nobody@test.example"])
        t.wait_maildir(self.md, 2)
        t.wait_queue_empty()
        msgs = [email.message_from_bytes(m.as_bytes()) for m in t.maildir(self.md)]
        dsn = [m for m in msgs if m.get_content_type() == "multipart/report"]
        plain = [m for m in msgs if m.get_content_type() == "text/plain"]
        self.assertEqual((len(dsn), len(plain)), (1, 1))
        body = plain[0].get_payload()
        qsbmf = body[:body.index(SEPARATOR) + len(SEPARATOR)]
        self.assertEqual(self.report_parts(dsn[0])[0].get_payload(), qsbmf)
        self.assertIn(SEPARATOR + "\nReturn-Path: <joe@test.example>\n", body)
        self.assertIsNone(plain[0]["MIME-Version"])

    def test_cap_returns_headers_only(self):
        t = self.t
        t.control("bounceformat", "rfc3464\n")
        t.control("bouncemaxbytes", "10240\n")
        t.start()
        big = "Subject: big\nX-Marker: yes\n\n" + ("y" * 99 + "\n") * 2000  # 200 KB
        qq(t, big, "joe@test.example", ["nobody@test.example"])
        small = "Subject: small\n\nsmall body\n"
        qq(t, small, "joe@test.example", ["nobody@test.example"])
        t.wait_maildir(self.md, 2)
        t.wait_queue_empty()
        raws = [m.as_bytes() for m in t.maildir(self.md)]
        for raw in raws:
            m = email.message_from_bytes(raw)
            parts = self.report_parts(m)
            if b"Subject: big" in raw:
                self.assertLess(len(raw), 12000)
                self.assertNotIn(b"yyyy", raw)
                self.assertEqual(parts[2].get_content_type(), "text/rfc822-headers")
                hdrs = parts[2].get_payload()
                self.assertIn("Subject: big\nX-Marker: yes\n", hdrs)
                self.assertTrue(hdrs.startswith("Return-Path: <joe@test.example>\nReceived: "), hdrs)
                self.assertIn("bounce limit of 10240 bytes; only its header is returned.",
                              parts[0].get_payload())
            else:
                self.assertEqual(parts[2].get_content_type(), "message/rfc822")
                self.assertEqual(parts[2].get_payload()[0].get_payload(), "small body\n")
                self.assertNotIn("only its header", parts[0].get_payload())

    def test_cap_in_qsbmf(self):
        t = self.t
        t.control("bouncemaxbytes", "10240\n")
        t.start()
        big = "Subject: big\n\n" + ("z" * 99 + "\n") * 2000
        qq(t, big, "joe@test.example", ["nobody@test.example"])
        (raw,) = self.raw_bounces(1)
        t.wait_queue_empty()
        self.assertLess(len(raw), 12000)
        self.assertNotIn(b"zzzz", raw)
        b = email.message_from_bytes(raw)
        self.assertIsNone(b["MIME-Version"])
        body = b.get_payload()
        self.assertIn(SEPARATOR + "\nReturn-Path: <joe@test.example>\nReceived: ", body)
        self.assertTrue(body.endswith("Subject: big\n\n--- Message body stripped: the message is larger "
                                      "than the bounce limit of 10240 bytes; only its header is returned.\n"),
                        body[-400:])

    def test_large_message_returned_whole(self):
        # Without a cap the whole message comes back: qmail-send streams it
        # from mess/ between the report's head and its closing boundary.
        t = self.t
        t.control("bounceformat", "rfc3464\n")
        t.start()
        body = ("y" * 199 + "\n") * 20000 + "--=_evqmail.not-the-boundary\n"
        qq(t, "Subject: large\n\n" + body, "joe@test.example", ["nobody@test.example"])
        (b,) = self.bounces(1)
        t.wait_queue_empty()
        parts = self.report_parts(b)
        self.assertEqual(parts[2].get_content_type(), "message/rfc822")
        (orig,) = parts[2].get_payload()
        self.assertEqual(orig["Subject"], "large")
        self.assertEqual(orig.get_payload(), body)
        self.assertNotIn(b.get_boundary(), body)


if __name__ == "__main__":
    import unittest
    unittest.main()
