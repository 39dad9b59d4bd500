// Unit tests of bounce composition.
#include "queue/bounce.h"

#include <doctest/doctest.h>

TEST_CASE("bounce: VERP sender expansion") {
  CHECK(queue::verp_sender("list-owner-@example.org-@[]", "joe@example.net") ==
        "list-owner-joe=example.net@example.org");
  CHECK(queue::verp_sender("list-owner-@example.org-@[]", "nohost") == "list-owner-@example.org-@[]");
  CHECK(queue::verp_sender("plain@example.org", "joe@example.net") == "plain@example.org");
  CHECK(queue::verp_sender("", "joe@example.net") == "");
}

TEST_CASE("bounce: entries") {
  CHECK(queue::bounce_entry("joe@x", "Sorry, no mailbox here by that name. (#5.1.1)\n") ==
        "<joe@x>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n");
  CHECK(queue::bounce_entry("joe@x", "line one\n\nline three") == "<joe@x>:\nline one\n/line three\n\n");
  CHECK(queue::bounce_entry("a\nb@x", "") == "<a_b@x>:\n\n");
}

TEST_CASE("bounce: kinds and targets") {
  CHECK(queue::bounce_kind("a@b") == queue::BounceKind::single);
  CHECK(queue::bounce_kind("") == queue::BounceKind::dbl);
  CHECK(queue::bounce_kind("#@[]") == queue::BounceKind::triple);
  CHECK(queue::bounce_target("x-@host-@[]") == "x-@host");
  CHECK(queue::bounce_target("x@host") == "x@host");
  CHECK(queue::quote_address("a b@c") == "\"a b\"@c");
  CHECK(queue::quote_address("a.b@c") == "a.b@c");
}

TEST_CASE("bounce: QSBMF single and double texts") {
  std::string entries = "<joe@x>:\nno such user\n\n";
  CHECK(queue::bounce_head("1 Jan 1970 00:00:00 -0000", "MAILER-DAEMON", "me.example", "ann@a",
                           "ann@a", entries) ==
        "Date: 1 Jan 1970 00:00:00 -0000\n"
        "From: MAILER-DAEMON@me.example\n"
        "To: ann@a\n"
        "Subject: failure notice\n"
        "\n"
        "Hi. This is the qmail-send program at me.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n"
        "\n"
        "<joe@x>:\nno such user\n\n"
        "--- Below this line is a copy of the message.\n"
        "\n"
        "Return-Path: <ann@a>\n");
  CHECK(queue::bounce_head("D", "MAILER-DAEMON", "me.example", "postmaster@me.example", "", entries) ==
        "Date: D\n"
        "From: MAILER-DAEMON@me.example\n"
        "To: postmaster@me.example\n"
        "Subject: failure notice\n"
        "\n"
        "Hi. This is the qmail-send program at me.example.\n"
        "I tried to deliver a bounce message to this address, but the bounce bounced!\n"
        "\n"
        "<joe@x>:\nno such user\n\n"
        "--- Below this line is the original bounce.\n"
        "\n"
        "Return-Path: <>\n");
}
