// Unit tests of TAI64N labels and the line logger.
#include "reactor/log.h"

#include <doctest/doctest.h>
#include <unistd.h>

using namespace reactor;

TEST_CASE("tai64n labels use daemontools' epoch 2^62 + 10") {
  CHECK(tai64_of_unix(0) == 0x400000000000000aULL);
  CHECK(tai64n_label(0, 0) == "@400000000000000a00000000");
  // UNIX second 1121422248 (0x42d78ba8) plus 10.
  CHECK(tai64n_label(1121422248, 500) == "@4000000042d78bb2000001f4");
  CHECK(tai64n_label(1700000000, 999999999).size() == 25);
}

TEST_CASE("tai64n labels parse back") {
  std::int64_t s = 0;
  long ns = 0;
  REQUIRE(parse_tai64n("@4000000042d78bb2000001f4", s, ns));
  CHECK(s == 1121422248);
  CHECK(ns == 500);
  CHECK_FALSE(parse_tai64n("@4000000042d78bb2000001f", s, ns));
  CHECK_FALSE(parse_tai64n("4000000042d78bb2000001f4x", s, ns));
  CHECK_FALSE(parse_tai64n("@4000000042d78bb2zz0001f4", s, ns));
  std::string now = tai64n_now();
  REQUIRE(parse_tai64n(now, s, ns));
  CHECK(s > 1600000000);
  CHECK(ns % 1000 == 500);
}

TEST_CASE("line logger formats and writes whole lines") {
  LineLogger plain(1, false, "qmail-send: ");
  CHECK(plain.format("status: local 0/10") == "qmail-send: status: local 0/10\n");
  LineLogger stamped(1, true);
  std::string l = stamped.format("x");
  CHECK(l.size() == 25 + 1 + 1 + 1);
  CHECK(l[0] == '@');
  CHECK(l.substr(25) == " x\n");
  int p[2];
  REQUIRE(pipe(p) == 0);
  LineLogger to_pipe(p[1]);
  CHECK(to_pipe.line("hello"));
  char buf[16];
  CHECK(read(p[0], buf, sizeof buf) == 6);
  CHECK(std::string(buf, 6) == "hello\n");
  close(p[0]);
  close(p[1]);
  CHECK(fatal_text("qmail-send", "cannot start") == "qmail-send: fatal: cannot start");
}
