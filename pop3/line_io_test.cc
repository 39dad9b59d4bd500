// Unit tests of the blocking line reader of qmail-popup and qmail-pop3d.
#include "pop3/line_io.h"

#include <unistd.h>

#include <doctest/doctest.h>

#include "reactor/fd.h"

using namespace pop3;

TEST_CASE("line_io: lines, a length cap and end of file") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  REQUIRE(reactor::write_all(p[1], "USER joe\r\n" + std::string(100, 'x') + "\nlast"));
  ::close(p[1]);
  LineReader in(p[0], 5, 100);
  CHECK(*in.next() == "USER joe\r");
  CHECK(*in.next() == std::string(100, 'x'));  // up to the cap is a line
  CHECK_FALSE(in.next());                       // an unterminated last line is not a command
  CHECK_FALSE(in.overlong());
  ::close(p[0]);
}

TEST_CASE("line_io: a line past the cap ends the reading, without waiting for its LF") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  REQUIRE(reactor::write_all(p[1], "NOOP\r\n" + std::string(101, 'x')));
  LineReader in(p[0], 5, 100);
  CHECK(*in.next() == "NOOP\r");
  CHECK_FALSE(in.next());  // the pipe is still open: no LF will ever come
  CHECK(in.overlong());
  ::close(p[0]);
  ::close(p[1]);
}

TEST_CASE("line_io: a deadline bounds the whole reading, not just one read") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  LineReader in(p[0], 1200, 100);
  in.set_deadline(std::time(nullptr) + 1);
  REQUIRE(reactor::write_all(p[1], "NOOP\r\n"));
  CHECK(*in.next() == "NOOP\r");
  CHECK_FALSE(in.next());
  CHECK(in.expired());
  CHECK_FALSE(in.overlong());
  ::close(p[0]);
  ::close(p[1]);
}

TEST_CASE("line_io: exact mode leaves the next line in the pipe") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  REQUIRE(reactor::write_all(p[1], "PASS pw\r\nSTAT\r\n"));
  LineReader in(p[0], 5, 100, true);
  CHECK(*in.next() == "PASS pw\r");
  CHECK_FALSE(in.line_buffered());
  char buf[16];
  CHECK(::read(p[0], buf, sizeof buf) == 6);  // "STAT\r\n" is still there for qmail-pop3d
  ::close(p[0]);
  ::close(p[1]);
}

TEST_CASE("line_io: a read times out") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  LineReader in(p[0], 1, 100);
  CHECK_FALSE(in.next());
  ::close(p[0]);
  ::close(p[1]);
}
