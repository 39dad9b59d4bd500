// Unit tests of maildir2mbox's mbox formatting and Maildir handling.
#include "queue/maildir2mbox_lib.h"

#include <cstdlib>
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "reactor/fd.h"

using namespace queue;

TEST_CASE("mbox From_ lines follow maildir2mbox.c") {
  CHECK(mbox_ctime(0) == "Thu Jan 01 00:00:00 1970\n");
  CHECK(mbox_ctime(1700000000) == "Tue Nov 14 22:13:20 2023\n");
  CHECK(mbox_from_line("Return-Path: <joe@example.com>\n", 0) ==
        "From joe@example.com Thu Jan 01 00:00:00 1970\n");
  CHECK(mbox_from_line("Return-Path: <>\n", 0) == "From MAILER-DAEMON Thu Jan 01 00:00:00 1970\n");
  CHECK(mbox_from_line("Return-Path: <a b\tc@x>\n", 0) == "From a-b-c@x Thu Jan 01 00:00:00 1970\n");
  CHECK(mbox_from_line("Subject: hi\n", 0) == "From XXX Thu Jan 01 00:00:00 1970\n");
  CHECK(mbox_from_line("Return-Path: <joe@example.com>", 0) == "From XXX Thu Jan 01 00:00:00 1970\n");
}

TEST_CASE("mbox entries quote From_ lines and end with a blank line") {
  std::string out;
  append_mbox_message(out, "Return-Path: <a@b>\nSubject: x\n\nFrom here\n>From there\nFromage\nend", 0);
  CHECK(out ==
        "From a@b Thu Jan 01 00:00:00 1970\n"
        "Return-Path: <a@b>\nSubject: x\n\n>From here\n>>From there\nFromage\nend\n\n");
}

TEST_CASE("header summary picks From, To and Subject") {
  auto f = header_summary("Received: x\nFrom: Joe <joe@x>\nSUBJECT: long\n\tsubject\nTo: a@b\r\n\nFrom: body\n");
  REQUIRE(f.size() == 3);
  CHECK(f[0] == "From: Joe <joe@x>");
  CHECK(f[1] == "SUBJECT: long subject");
  CHECK(f[2] == "To: a@b");
}

namespace {
void put(const std::string& path, const std::string& text, time_t mtime) {
  REQUIRE(reactor::write_file_atomic(path, text).ok());
  struct timeval tv[2] = {{mtime, 0}, {mtime, 0}};
  REQUIRE(utimes(path.c_str(), tv) == 0);
}
}  // namespace

TEST_CASE("maildir_to_mbox moves old messages in mtime order and skips this second") {
  char tmpl[] = "/tmp/m2m-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string md = dir + "/Maildir";
  for (const char* s : {"", "/tmp", "/new", "/cur"}) REQUIRE(mkdir((md + s).c_str(), 0700) == 0);
  time_t now = 1700000000;
  put(md + "/new/2.x", "Return-Path: <second@x>\n\nbody2\n", now - 10);
  put(md + "/cur/1.x:2,S", "Return-Path: <first@x>\n\nbody1\n", now - 20);
  put(md + "/new/3.x", "Return-Path: <now@x>\n\nbody3\n", now);
  put(md + "/new/.hidden", "x", now - 30);
  put(dir + "/mbox", "From old Thu Jan 01 00:00:00 1970\nold\n\n", now - 100);
  std::vector<std::string> warnings;
  auto st = maildir_to_mbox(md, dir + "/mbox", dir + "/mbox.tmp", now, warnings);
  REQUIRE(st.ok());
  CHECK(warnings.empty());
  auto mbox = reactor::read_file(dir + "/mbox");
  REQUIRE(mbox.ok());
  CHECK(*mbox ==
        "From old Thu Jan 01 00:00:00 1970\nold\n\n"
        "From first@x " + mbox_ctime(now - 20) + "Return-Path: <first@x>\n\nbody1\n\n"
        "From second@x " + mbox_ctime(now - 10) + "Return-Path: <second@x>\n\nbody2\n\n");
  CHECK_FALSE(reactor::exists(md + "/new/2.x"));
  CHECK_FALSE(reactor::exists(md + "/cur/1.x:2,S"));
  CHECK(reactor::exists(md + "/new/3.x"));  // the current second waits
  CHECK_FALSE(reactor::exists(dir + "/mbox.tmp"));
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("maildir_to_mbox fails temporarily without a Maildir") {
  std::vector<std::string> w;
  auto st = maildir_to_mbox("/nonexistent/Maildir", "/tmp/x", "/tmp/y", 100, w);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().temporary);
  CHECK(st.error().text.find("unable to scan $MAILDIR/new") == 0);
}
