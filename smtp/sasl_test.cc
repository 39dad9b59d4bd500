// Unit tests of the SASL helpers.
#include "smtp/sasl.h"

#include <doctest/doctest.h>

using namespace smtp::sasl;

TEST_CASE("sasl: base64 both ways, strictly") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("Username:") == "VXNlcm5hbWU6");
  CHECK(base64_encode(std::string("\0alice\0s3cret", 13)) == "AGFsaWNlAHMzY3JldA==");
  CHECK(base64_decode("VXNlcm5hbWU6") == std::optional<std::string>("Username:"));
  CHECK(base64_decode("AGFsaWNlAHMzY3JldA==") == std::optional<std::string>(std::string("\0alice\0s3cret", 13)));
  CHECK(base64_decode("YQ==") == std::optional<std::string>("a"));
  CHECK(base64_decode("YWI=") == std::optional<std::string>("ab"));
  CHECK(base64_decode("=") == std::optional<std::string>(""));
  CHECK_FALSE(base64_decode(""));
  CHECK_FALSE(base64_decode("YQ"));        // not whole quanta
  CHECK_FALSE(base64_decode("Y Q=="));     // not the alphabet
  CHECK_FALSE(base64_decode("YQ==YQ=="));  // padding inside
  CHECK_FALSE(base64_decode("Y==="));
  CHECK_FALSE(base64_decode("YQ\r\n"));
}

TEST_CASE("sasl: PLAIN and CRAM-MD5 messages") {
  auto p = parse_plain(std::string("authz\0alice\0pw", 14));
  REQUIRE(p);
  CHECK(p->user == "alice");
  CHECK(p->secret == "pw");
  CHECK(parse_plain(std::string("\0bob\0", 5))->secret.empty());
  CHECK_FALSE(parse_plain("alice"));
  CHECK_FALSE(parse_plain(std::string("alice\0pw", 8)));
  CHECK_FALSE(parse_plain(std::string("\0a\0b\0c", 6)));
  auto c = parse_cram("tim b913a602c7eda7a495b4e6e7334d3890");
  REQUIRE(c);
  CHECK(c->user == "tim");
  CHECK(c->secret == "b913a602c7eda7a495b4e6e7334d3890");
  CHECK(parse_cram("first last  abc")->user == "first last");
  CHECK_FALSE(parse_cram("nodigest"));
}
