// Unit tests of maildirserial's command line.
#include "smtp/maildirserial_run.h"

#include <doctest/doctest.h>

using namespace smtp;

TEST_CASE("maildirserial arguments") {
  auto o = parse_maildirserial_args({"-b", "-t", "1209600", "--", "dir", "pre-", "tcpclient", "-RHl0", "h", "25"});
  REQUIRE(o);
  CHECK(o->bounce);
  CHECK(o->lifetime == 1209600ul);
  CHECK(o->dir == "dir");
  CHECK(o->prefix == "pre-");
  CHECK(o->client == std::vector<std::string>{"tcpclient", "-RHl0", "h", "25"});
  auto p = parse_maildirserial_args({"-bt60", "d", "", "c"});
  REQUIRE(p);
  CHECK(p->lifetime == 60ul);
  CHECK(p->prefix.empty());
  auto q = parse_maildirserial_args({"d", "p", "client"});
  REQUIRE(q);
  CHECK_FALSE(q->bounce);
  CHECK_FALSE(q->lifetime);
  CHECK_FALSE(parse_maildirserial_args({"d", "p"}));
  CHECK_FALSE(parse_maildirserial_args({"-z", "d", "p", "c"}));
}
