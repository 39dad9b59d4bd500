// Unit tests of serialmail's maildir-file envelope and report lines.
#include "smtp/serial_message.h"

#include <doctest/doctest.h>

using namespace smtp;
using namespace std::string_literals;

TEST_CASE("serial envelope: Return-Path and Delivered-To of qmail-local") {
  std::string f = "Return-Path: <bob@a.example>\nDelivered-To: autoturn-1.2.3.4-joe@virt.dom\nSubject: x\n\nhi\n";
  auto e = parse_serial_envelope(f);
  REQUIRE(e);
  CHECK(e->sender == "bob@a.example");
  CHECK(e->recipient == "autoturn-1.2.3.4-joe@virt.dom");
  CHECK(f.substr(e->header_bytes) == "Subject: x\n\nhi\n");
  CHECK(strip_prefix(e->recipient, "autoturn-1.2.3.4-") == "joe@virt.dom");
  CHECK_FALSE(strip_prefix(e->recipient, "autoturn-1.2.3.5-"));
  CHECK(strip_prefix(e->recipient, "") == e->recipient);
  CHECK(delivered_to_has_prefix(f, "autoturn-1.2.3.4-"));
  CHECK_FALSE(delivered_to_has_prefix(f, "other-"));
}

TEST_CASE("serial envelope: null sender, and files serialmail skips") {
  auto e = parse_serial_envelope("Return-Path: <>\nDelivered-To: p-x@y\n\n");
  REQUIRE(e);
  CHECK(e->sender.empty());
  CHECK_FALSE(parse_serial_envelope("Delivered-To: p-x@y\nReturn-Path: <>\n"));
  CHECK_FALSE(parse_serial_envelope("Return-Path: <a@b\nDelivered-To: p-x@y\n"));
  CHECK_FALSE(parse_serial_envelope("Return-Path: <a@b>\nDelivered-To: p-x@y"));  // no LF
  CHECK_FALSE(parse_serial_envelope("Return-Path: <a@b>\nX: y\n"));
  CHECK_FALSE(delivered_to_has_prefix("Return-Path: <a@b>\n", ""));
}

TEST_CASE("serial result line: letter, remote ip, cap and unprintables") {
  CHECK(status_for_code(250) == SerialStatus::kAccepted);
  CHECK(status_for_code(451) == SerialStatus::kTemporary);
  CHECK(status_for_code(554) == SerialStatus::kPermanent);
  CHECK(serial_result("new/1", SerialStatus::kAccepted, "127.0.0.2", "250 ok") ==
        "new/1\0K127.0.0.2 said: 250 ok\n"s);
  CHECK(serial_result("new/1", SerialStatus::kTemporary, nullptr, "451 a\tb\xff") == "new/1\0Z451 a?b?\n"s);
  std::string longtext(5000, 'x');
  std::string r = serial_result("f", SerialStatus::kPermanent, nullptr, longtext);
  CHECK(r.size() == 2 + 2000 + 1);
}
