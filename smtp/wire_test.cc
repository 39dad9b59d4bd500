// Unit tests of the SMTP DATA encoder and reply parser.
#include "smtp/wire.h"

#include <doctest/doctest.h>

using namespace smtp;

TEST_CASE("DATA encoding: CRLF, dot-stuffing, no smuggling") {
  CHECK(encode_data("") == ".\r\n");
  CHECK(encode_data("a\n") == "a\r\n.\r\n");
  CHECK(encode_data("a") == "a\r\n.\r\n");
  CHECK(encode_data(".\n..x\n") == "..\r\n...x\r\n.\r\n");
  CHECK(encode_data("a\r\nb\n") == "a\r\nb\r\n.\r\n");
  // Lone CR and lone LF both end lines; the dot after them is stuffed.
  CHECK(encode_data("a\r.\r\nb\n") == "a\r\n..\r\nb\r\n.\r\n");
  CHECK(encode_data("a\n.\rb") == "a\r\n..\r\nb\r\n.\r\n");
  CHECK(encode_data("x\r") == "x\r\n.\r\n");
  // Piecewise feeding gives the same bytes as one call.
  std::string whole = "l1\r\n.l2\r.\n\n.\r\r\n";
  std::string once = encode_data(whole), pieces;
  DataEncoder e;
  for (char c : whole) e.feed(std::string_view(&c, 1), pieces);
  e.finish(pieces);
  CHECK(once == pieces);
  // Every CR on the wire is followed by LF and every LF preceded by CR.
  for (size_t i = 0; i < once.size(); ++i) {
    if (once[i] == '\r') CHECK(once[i + 1] == '\n');
    if (once[i] == '\n') CHECK(once[i - 1] == '\r');
  }
}

TEST_CASE("reply parser: single, multi-line, malformed, bounded") {
  ReplyParser p;
  p.feed("220 hi there\r\n250-first\r\n250-SIZE 1000\r\n25");
  auto r = p.next();
  REQUIRE(r);
  CHECK(r->code == 220);
  CHECK(r->joined() == "hi there");
  CHECK_FALSE(p.next());
  p.feed("0 ok\r\n");
  r = p.next();
  REQUIRE(r);
  CHECK(r->code == 250);
  CHECK(r->lines.size() == 3);
  CHECK(r->joined() == "first/SIZE 1000/ok");
  p.feed("hello\n");
  r = p.next();
  REQUIRE(r);
  CHECK(r->code == -1);
  p.feed("250\n");
  r = p.next();
  REQUIRE(r);
  CHECK(r->code == 250);

  ReplyParser small(10);
  small.feed("250-" + std::string(100, 'x') + "\r\n250 end\r\n");
  r = small.next();
  REQUIRE(r);
  CHECK(r->code == 250);
  CHECK(r->joined().size() <= 12);
}
