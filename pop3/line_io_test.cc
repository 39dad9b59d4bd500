// Unit tests of the blocking line reader of qmail-popup and qmail-pop3d.
#include "pop3/line_io.h"

#include <unistd.h>

#include <doctest/doctest.h>

#include "reactor/fd.h"

using namespace pop3;

TEST_CASE("line_io: lines, a length cap and end of file") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  REQUIRE(reactor::write_all(p[1], "USER joe\r\n" + std::string(3000, 'x') + "\nlast"));
  ::close(p[1]);
  LineReader in(p[0], 5, 100);
  CHECK(*in.next() == "USER joe\r");
  CHECK(*in.next() == std::string(100, 'x'));  // the rest of a long line is dropped
  CHECK_FALSE(in.next());                       // an unterminated last line is not a command
  ::close(p[0]);
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
