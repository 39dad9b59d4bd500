// Unit tests of the SMTP helpers: addresses, literals, badmailfrom.
#include "smtp/smtpd_util.h"

#include <doctest/doctest.h>

TEST_CASE("smtpd_util: parse_address") {
  using smtp::parse_address;
  CHECK(parse_address("FROM:<a@b>").addr == "a@b");
  CHECK(parse_address("FROM:<a@b> SIZE=10").rest == " SIZE=10");
  CHECK(parse_address("TO:<@x.example,@y.example:u@z.example>").addr == "u@z.example");
  CHECK(parse_address("TO:<\"a b\"@c>").addr == "a b@c");
  CHECK(parse_address("TO:u@v").addr == "u@v");
  CHECK(parse_address("").addr == "");
  CHECK(parse_address("TO:<unterminated").addr == "unterminated");
}

TEST_CASE("smtpd_util: IPv4 literals") {
  std::string ip;
  CHECK(smtp::parse_ipv4_literal("[192.0.2.1]", ip));
  CHECK(ip == "192.0.2.1");
  CHECK_FALSE(smtp::parse_ipv4_literal("[192.0.2.256]", ip));
  CHECK_FALSE(smtp::parse_ipv4_literal("[192.0.2]", ip));
  CHECK_FALSE(smtp::parse_ipv4_literal("[192.0.2.1]x", ip));
  CHECK_FALSE(smtp::parse_ipv4_literal("[IPv6:::1]", ip));
}

TEST_CASE("smtpd_util: IPv4 and IPv6 address literals") {
  std::string ip;
  CHECK(smtp::parse_address_literal("[192.0.2.1]", ip));
  CHECK(ip == "192.0.2.1");
  CHECK(smtp::parse_address_literal("[IPv6:2001:DB8:0:0::1]", ip));
  CHECK(ip == "2001:db8::1");
  CHECK(smtp::parse_address_literal("[ipv6:::1]", ip));
  CHECK(ip == "::1");
  CHECK(smtp::parse_address_literal("[IPv6:::ffff:192.0.2.1]", ip));
  CHECK_FALSE(smtp::parse_address_literal("[IPv6:2001:db8::g]", ip));
  CHECK_FALSE(smtp::parse_address_literal("[2001:db8::1]", ip));  // the tag is required
  CHECK_FALSE(smtp::parse_address_literal("[IPv6:]", ip));
  CHECK_FALSE(smtp::parse_address_literal("[IPv4:1.2.3.4]", ip));
  CHECK_FALSE(smtp::parse_address_literal("[IPv6:::1", ip));
}

TEST_CASE("smtpd_util: esmtp_param and badmailfrom") {
  CHECK(smtp::esmtp_param(" BODY=8BITMIME size=42", "SIZE") == "42");
  CHECK_FALSE(smtp::esmtp_param(" BODY=8BITMIME", "SIZE"));
  std::set<std::string> bmf{"a@b.example", "@c.example"};
  CHECK(smtp::badmailfrom_match(bmf, "A@B.example"));
  CHECK(smtp::badmailfrom_match(bmf, "x@C.EXAMPLE"));
  CHECK_FALSE(smtp::badmailfrom_match(bmf, "x@d.c.example"));
  CHECK_FALSE(smtp::badmailfrom_match(bmf, ""));
}
