// Unit tests of the netstring codec.
#include "smtp/netstring.h"

#include <doctest/doctest.h>

using namespace smtp;

TEST_CASE("netstring encoding") {
  CHECK(netstring("") == "0:,");
  CHECK(netstring("hello") == "5:hello,");
}

TEST_CASE("netstring decoding, byte by byte and bounded") {
  NetstringDecoder d(100);
  std::string in = "5:hello,0:,3:a:b,";
  std::string got;
  int n = 0;
  for (char c : in) {
    d.feed(std::string_view(&c, 1));
    while (auto s = d.next()) { got += "[" + *s + "]"; ++n; }
  }
  CHECK(n == 3);
  CHECK(got == "[hello][][a:b]");
  CHECK_FALSE(d.error());

  NetstringDecoder small(4);
  small.feed("5:hello,");
  CHECK_FALSE(small.next());
  CHECK(small.error());

  for (const char* bad : {"x:", ":a,", "01:a,", "3:abc;", "99999999999999999999999:"}) {
    NetstringDecoder b(1000);
    b.feed(bad);
    CHECK_FALSE(b.next());
    CHECK_MESSAGE(b.error(), bad);
  }
  size_t len = 0, pre = 0;
  CHECK(parse_length("12", 100, len, pre) == LengthState::kNeedMore);
  CHECK(parse_length("12:", 100, len, pre) == LengthState::kOk);
  CHECK(len == 12);
  CHECK(pre == 3);
}
