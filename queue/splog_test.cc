// Unit tests of splogger's line formatting.
#include "queue/splog.h"

#include <doctest/doctest.h>
#include <syslog.h>

using namespace queue;

namespace {
struct Fixture {
  int ticks = 0;
  Splogger s{[this] { return splog_stamp(1000 + ticks++, 42); }};
  std::vector<SplogRecord> out;
};
}  // namespace

TEST_CASE("splogger stamps lines and picks priorities") {
  CHECK(splog_stamp(1700000000, 5) == "1700000000.000005");
  Fixture f;
  f.s.feed("status: local 0/10\nwarning: trouble\n\nalert: cannot start\npartial", f.out);
  REQUIRE(f.out.size() == 3);
  CHECK(f.out[0].text == "1000.000042 status: local 0/10");
  CHECK(f.out[0].priority == LOG_INFO);
  CHECK(f.out[1].text == "1001.000042 warning: trouble");
  CHECK(f.out[1].priority == LOG_WARNING);
  CHECK(f.out[2].text == "1002.000042 alert: cannot start");
  CHECK(f.out[2].priority == LOG_ALERT);
  f.s.finish(f.out);
  REQUIRE(f.out.size() == 4);
  CHECK(f.out[3].text == "1003.000042 partial");
}

TEST_CASE("splogger replaces unprintables and splits long lines") {
  Fixture f;
  f.s.feed(std::string("a\tb\x01\xff") + "\n", f.out);
  REQUIRE(f.out.size() == 1);
  CHECK(f.out[0].text == "1000.000042 a?b??");
  f.out.clear();
  std::string longline = "warning:" + std::string(1700, 'x');
  f.s.feed(longline + "\nnext\n", f.out);
  REQUIRE(f.out.size() == 4);
  CHECK(f.out[0].text == "1001.000042 " + longline.substr(0, 799));
  CHECK(f.out[1].text == "1001.000042+" + longline.substr(799, 799));
  CHECK(f.out[2].text == "1001.000042+" + longline.substr(1598));
  CHECK(f.out[1].priority == LOG_WARNING);
  CHECK(f.out[2].priority == LOG_WARNING);
  CHECK(f.out[3].text == "1002.000042 next");
}

TEST_CASE("splogger: a line of exactly one piece is not continued") {
  Fixture f;
  f.s.feed(std::string(799, 'y') + "\n", f.out);
  REQUIRE(f.out.size() == 1);
  f.s.feed(std::string(800, 'y') + "\n", f.out);
  REQUIRE(f.out.size() == 3);
  CHECK(f.out[2].text == "1001.000042+y");
}

TEST_CASE("splogger facility numbers") {
  CHECK(splog_facility(nullptr) == LOG_MAIL);
  CHECK(splog_facility("2") == LOG_MAIL);
  CHECK(splog_facility("3") == LOG_DAEMON);
  CHECK(splog_facility("16") == LOG_LOCAL0);
}
