// Unit tests of qmail-local's environment and header lines.
#include "spawn/local_env.h"

#include <doctest/doctest.h>
#include <map>

using namespace spawn;

TEST_CASE("local_env: Delivered-To and Return-Path lines") {
  CHECK(dt_line("joe", "x.org") == "Delivered-To: joe@x.org\n");
  CHECK(dt_line("a\nb", "x.org") == "Delivered-To: a_b@x.org\n");
  CHECK(rp_line("joe@x.org") == "Return-Path: <joe@x.org>\n");
  CHECK(rp_line("") == "Return-Path: <>\n");
  CHECK(rp_line("#@[]") == "Return-Path: <#@[]>\n");
  CHECK(rp_line("john doe@x.org") == "Return-Path: <\"john doe\"@x.org>\n");
  CHECK(rp_line("a\"b@x") == "Return-Path: <\"a\\\"b\"@x>\n");
  CHECK(rp_line("a.@x") == "Return-Path: <\"a.\"@x>\n");
  CHECK(rp_line("a..b@x") == "Return-Path: <\"a..b\"@x>\n");
  CHECK(rp_line("noat") == "Return-Path: <noat>\n");
  CHECK(rp_line("a@b@c") == "Return-Path: <\"a@b\"@c>\n");
  // An escaped newline still becomes `_`, keeping its backslash.
  CHECK(rp_line("a\nb@x") == "Return-Path: <\"a\\_b\"@x>\n");
  CHECK(quote_address("@x") == "\"\"@x");
}

TEST_CASE("local_env: mbox From_ line") {
  // 2020-11-01 03:04:05 UTC was a Sunday; qmail pads the day with a zero.
  CHECK(uf_line("joe@x.org", 1604199845) == "From joe@x.org Sun Nov 01 03:04:05 2020\n");
  CHECK(uf_line("", 1604199845) == "From MAILER-DAEMON Sun Nov 01 03:04:05 2020\n");
  CHECK(uf_line("a b\tc\nd", 0) == "From a-b-c-d Thu Jan 01 00:00:00 1970\n");
}

TEST_CASE("local_env: EXT2-4 and HOST2-4") {
  CHECK(ext_n("uucp-joe", 2) == "joe");
  CHECK(ext_n("a-b-c-d", 3) == "c-d");
  CHECK(ext_n("a-b-c-d", 4) == "d");
  CHECK(ext_n("a-b", 4) == "");
  CHECK(ext_n("", 2) == "");
  CHECK(host_n("a.b.c.d", 2) == "a.b.c");
  CHECK(host_n("a.b.c.d", 3) == "a.b");
  CHECK(host_n("a.b.c.d", 4) == "a");
  // [QUIRK] the value stops shrinking.
  CHECK(host_n("compat.example", 2) == "compat");
  CHECK(host_n("compat.example", 3) == "compat");
  CHECK(host_n("compat.example", 4) == "compat");
  CHECK(host_n("localhost", 2) == "localhost");
}

TEST_CASE("local_env: NEWSENDER") {
  CHECK(new_sender("me-sos", "x.org", "a@b", false, false) == "a@b");
  CHECK(new_sender("me-sos", "x.org", "a@b", true, false) == "me-sos-owner@x.org");
  CHECK(new_sender("me-sos", "x.org", "a@b", true, true) == "me-sos-owner-@x.org-@[]");
  // -owner-default alone does nothing.
  CHECK(new_sender("me-sos", "x.org", "a@b", false, true) == "a@b");
  CHECK(new_sender("me-sos", "x.org", "", true, true) == "");
  CHECK(new_sender("me-sos", "x.org", "#@[]", true, false) == "#@[]");
}

TEST_CASE("local_env: the variable set") {
  LocalArgs a{"alias", "/h", "alias-uucp-joe", "-", "uucp-joe", "far.host", "s@x", "./Maildir/"};
  std::map<std::string, std::string> m;
  for (auto& [k, v] : local_env(a, "s@x", 0)) m[k] = v;
  CHECK(m.size() == 17);
  CHECK(m["USER"] == "alias");
  CHECK(m["HOME"] == "/h");
  CHECK(m["LOCAL"] == "alias-uucp-joe");
  CHECK(m["HOST"] == "far.host");
  CHECK(m["RECIPIENT"] == "alias-uucp-joe@far.host");
  CHECK(m["SENDER"] == "s@x");
  CHECK(m["NEWSENDER"] == "s@x");
  CHECK(m["EXT"] == "uucp-joe");
  CHECK(m["EXT2"] == "joe");
  CHECK(m["EXT3"] == "");
  CHECK(m["HOST2"] == "far");
  CHECK(m["DTLINE"] == "Delivered-To: alias-uucp-joe@far.host\n");
  CHECK(m["RPLINE"] == "Return-Path: <s@x>\n");
  CHECK(m["UFLINE"] == "From s@x Thu Jan 01 00:00:00 1970\n");
  CHECK(m.count("DEFAULT") == 0);
}
