// Unit tests of maildirserial's scan, report parsing, decisions and bounces.
#include "smtp/maildirserial_core.h"

#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <doctest/doctest.h>

#include "reactor/fd.h"

using namespace smtp;
using namespace std::string_literals;

TEST_CASE("maildirserial: client reports, split across reads") {
  ReportParser p;
  std::string s = "new/1\0Kok\n"s + "cur/2:2,\0Z127.0.0.2 said: 451 later\n"s + "new/3\0D"s;
  for (char c : s) p.feed(std::string_view(&c, 1));
  auto a = p.next();
  REQUIRE(a);
  CHECK(a->fn == "new/1");
  CHECK(a->status == 'K');
  CHECK(a->text == "ok");
  auto b = p.next();
  REQUIRE(b);
  CHECK(b->fn == "cur/2:2,");
  CHECK(b->text == "127.0.0.2 said: 451 later");
  CHECK_FALSE(p.next());
  p.feed("550 no\n");
  auto c = p.next();
  REQUIRE(c);
  CHECK(c->status == 'D');
  CHECK(c->text == "550 no");
}

TEST_CASE("maildirserial: K removes, Z stays until the lifetime, D bounces with -b") {
  CHECK(decide('K', false, {}, {}, 1000).action == FileAction::kRemove);
  CHECK(decide('Z', true, {}, 0, 1000).action == FileAction::kKeepTemporary);
  CHECK(decide('Z', true, 100ul, 950, 1000).action == FileAction::kKeepTemporary);
  auto old = decide('Z', true, 100ul, 800, 1000);
  CHECK(old.action == FileAction::kBounce);
  CHECK(old.timed_out);
  CHECK(decide('Z', false, 100ul, 800, 1000).action == FileAction::kKeepFailed);
  CHECK(decide('Z', true, 100ul, std::nullopt, 1000).action == FileAction::kKeepTemporary);
  CHECK(decide('D', true, {}, {}, 1000).action == FileAction::kBounce);
  CHECK_FALSE(decide('D', true, 100ul, 0, 1000).timed_out);
  CHECK(decide('D', false, {}, {}, 1000).action == FileAction::kKeepFailed);
}

TEST_CASE("maildirserial: bounce text, double and triple bounces") {
  BounceControls c;
  c.bouncehost = "isp.example";
  c.doublebounceto = "postmaster@isp.example";
  std::string f = "Return-Path: <bob@a.example>\nDelivered-To: at-1-joe@virt.dom\nSubject: s\n\nbody\n";
  auto b = make_bounce(f, "at-1-", "127.0.0.2 said: 550 no\n", false, c, "1 Jan 2024 00:00:00 -0000");
  REQUIRE(b);
  CHECK_FALSE(b->triple);
  CHECK(b->sender == "");
  CHECK(b->recipient == "bob@a.example");
  CHECK(b->message.find("From: MAILER-DAEMON@isp.example\nTo: bob@a.example\nSubject: failure notice\n") != std::string::npos);
  CHECK(b->message.find("<joe@virt.dom>:\n127.0.0.2 said: 550 no\n\n--- Below this line is a copy of the message.\n\n"
                        "Return-Path: <bob@a.example>\nSubject: s\n\nbody\n") != std::string::npos);
  auto old = make_bounce(f, "at-1-", "x\n", true, c, "d");
  CHECK(old->message.find("This message is too old. Giving up.\n") != std::string::npos);
  auto dbl = make_bounce("Return-Path: <>\nDelivered-To: at-1-joe@virt.dom\n\n", "at-1-", "x\n", false, c, "d");
  REQUIRE(dbl);
  CHECK(dbl->sender == "#@[]");
  CHECK(dbl->recipient == "postmaster@isp.example");
  CHECK(dbl->message.find("--- Below this line is the original bounce.") != std::string::npos);
  auto tri = make_bounce("Return-Path: <#@[]>\nDelivered-To: at-1-joe@virt.dom\n\n", "at-1-", "x\n", false, c, "d");
  REQUIRE(tri);
  CHECK(tri->triple);
  CHECK_FALSE(make_bounce("garbage\n", "", "x\n", false, c, "d"));
}

TEST_CASE("maildirserial: scan lists new and cur, oldest first, skips this second") {
  char dir[] = "/tmp/maildirserial-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  char old[4096];
  REQUIRE(::getcwd(old, sizeof old));
  REQUIRE(::chdir(dir) == 0);
  for (const char* d : {"new", "cur", "tmp"}) ::mkdir(d, 0700);
  auto put = [](const char* name, time_t t) {
    REQUIRE(reactor::write_file_atomic(name, "x"));
    struct utimbuf u{t, t};
    ::utime(name, &u);
  };
  put("new/b", 1000);
  put("cur/a:2,S", 900);
  put("new/.hidden", 800);
  put("new/c", 2000);
  put("tmp/stale", 1);
  auto files = scan_maildir(2000);
  REQUIRE(files);
  REQUIRE(files->size() == 2);
  CHECK((*files)[0].name == "cur/a:2,S");
  CHECK((*files)[1].name == "new/b");
  clean_maildir_tmp(2000 + 129601);
  CHECK_FALSE(reactor::exists("tmp/stale"));
  for (const char* f : {"new/b", "cur/a:2,S", "new/.hidden", "new/c"}) ::unlink(f);
  for (const char* d : {"new", "cur", "tmp"}) ::rmdir(d);
  REQUIRE(::chdir(old) == 0);
  ::rmdir(dir);
}

TEST_CASE("maildirsmtp and maildirqmtp command lines") {
  auto s = wrapper_argv(false, {"1.2.3.4", "autoturn-1.2.3.4-", "1.2.3.4", "AutoTURN"}, "/q/bin", "tcpclient", "25");
  CHECK(s == std::vector<std::string>{"/q/bin/maildirserial", "-b", "-t", "1209600", "--", "1.2.3.4",
                                      "autoturn-1.2.3.4-", "tcpclient", "-RHl0", "--", "1.2.3.4", "25",
                                      "/q/bin/serialsmtp", "autoturn-1.2.3.4-", "AutoTURN"});
  auto q = wrapper_argv(true, {"d", "p-", "h"}, "/q/bin", "/q/bin/tcpclient", "209");
  CHECK(q == std::vector<std::string>{"/q/bin/maildirserial", "-b", "-t", "1209600", "--", "d", "p-",
                                      "/q/bin/tcpclient", "-RHl0", "--", "h", "209", "/q/bin/serialqmtp", "p-"});
}
