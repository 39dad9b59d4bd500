// Unit tests of reactor::Buffer: caps and line framing.
#include "reactor/buffer.h"

#include <doctest/doctest.h>

using namespace reactor;

TEST_CASE("buffer appends, consumes and respects its byte cap") {
  Buffer b(10);
  CHECK(b.append("hello"));
  CHECK(b.size() == 5);
  CHECK(b.room() == 5);
  CHECK_FALSE(b.append("world!"));  // all or nothing
  CHECK(b.size() == 5);
  CHECK(b.append_some("world!") == 5);
  CHECK(b.view() == "helloworld");
  b.consume(3);
  CHECK(b.view() == "loworld");
  CHECK(b.append("abc"));
  CHECK(b.view() == "loworldabc");
  b.consume(100);
  CHECK(b.empty());
}

TEST_CASE("buffer frames LF and CRLF lines") {
  Buffer b;
  b.append("one\r\ntwo\nthr");
  std::string line;
  bool crlf = false;
  REQUIRE(b.take_line(line, &crlf));
  CHECK(line == "one");
  CHECK(crlf);
  REQUIRE(b.take_line(line, &crlf));
  CHECK(line == "two");
  CHECK_FALSE(crlf);
  CHECK_FALSE(b.take_line(line));
  CHECK(b.find_line().status == LineStatus::none);
  b.append("ee\n");
  REQUIRE(b.take_line(line));
  CHECK(line == "three");
  b.append("\n");
  REQUIRE(b.take_line(line, &crlf));
  CHECK(line.empty());
}

TEST_CASE("a bare CR inside a line is kept") {
  Buffer b;
  b.append("a\rb\n");
  LineView lv = b.find_line();
  CHECK(lv.status == LineStatus::line);
  CHECK(lv.text == "a\rb");
  CHECK_FALSE(lv.crlf);
  CHECK(lv.consumed == 4);
}

TEST_CASE("line cap reports too_long instead of growing") {
  Buffer b(1000, 5);
  b.append("12345\r\n");
  CHECK(b.find_line().status == LineStatus::line);
  b.clear();
  b.append("12345\n");
  CHECK(b.find_line().text == "12345");
  b.clear();
  b.append("123456\n");
  CHECK(b.find_line().status == LineStatus::too_long);
  b.clear();
  b.append("123456");  // content plus CR could still fit
  CHECK(b.find_line().status == LineStatus::none);
  b.append("7");
  CHECK(b.find_line().status == LineStatus::too_long);
  CHECK_FALSE(b.skip_line());
  CHECK(b.empty());
  b.append("xxxxxxxxx\nok\n");
  CHECK(b.skip_line());
  CHECK(b.find_line().text == "ok");
}

TEST_CASE("a full buffer without a line end is too_long") {
  Buffer b(4);
  b.append("abcd");
  CHECK(b.find_line().status == LineStatus::too_long);
  b.clear();
  b.append("ab\nc");
  CHECK(b.find_line().text == "ab");
}
