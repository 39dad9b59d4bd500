// Unit tests of the POP3 wire form of messages (qmail-pop3d's blast).
#include "pop3/blast.h"

#include <doctest/doctest.h>

using pop3::blast;

TEST_CASE("blast: CR LF, dot-stuffing and qmail's final empty line") {
  CHECK(blast("Subject: x\n\nbody\n") == "Subject: x\r\n\r\nbody\r\n\r\n.\r\n");
  CHECK(blast("a\n.b\n..\n.\n") == "a\r\n..b\r\n...\r\n..\r\n\r\n.\r\n");
  CHECK(blast("no newline") == "no newline\r\n\r\n.\r\n");
  CHECK(blast("") == "\r\n.\r\n");
  CHECK(blast("crlf\r\nstored\r\n") == "crlf\r\nstored\r\n\r\n.\r\n");
}

TEST_CASE("blast: TOP limits") {
  std::string m = "H: 1\nH: 2\n\nl1\nl2\n.l3\n";
  CHECK(blast(m, 1) == "H: 1\r\nH: 2\r\n\r\n\r\n.\r\n");           // TOP n 0
  CHECK(blast(m, 2) == "H: 1\r\nH: 2\r\n\r\nl1\r\n\r\n.\r\n");     // TOP n 1
  CHECK(blast(m, 4) == "H: 1\r\nH: 2\r\n\r\nl1\r\nl2\r\n..l3\r\n\r\n.\r\n");
  CHECK(blast(m, 100) == blast(m, 0));
  // No empty line: all of it is header.
  CHECK(blast("H: 1\nH: 2\n", 1) == "H: 1\r\nH: 2\r\n\r\n.\r\n");
  // A CR LF stored message still ends its header at the empty line.
  CHECK(blast("H: 1\r\n\r\nb1\r\nb2\r\n", 2) == "H: 1\r\n\r\nb1\r\n\r\n.\r\n");
}

TEST_CASE("blast: chunked input gives the same bytes") {
  std::string m = "H: 1\n\n.a\nb\r\nc\n.\n";
  for (uint64_t limit : {0, 1, 2, 3}) {
    pop3::Blaster b(limit);
    std::string out;
    for (char c : m) {
      if (!b.feed(std::string_view(&c, 1), out)) break;
    }
    b.finish(out);
    CHECK(out == blast(m, limit));
  }
}
