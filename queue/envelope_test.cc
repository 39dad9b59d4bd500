// Unit tests of envelope record decoding.
#include "queue/envelope.h"

#include <doctest/doctest.h>

using namespace std::literals;

TEST_CASE("envelope: todo records with offsets") {
  std::string todo = "u1000\0p42\0Fjoe@a.example\0Tbob@b.example\0Tx\0"s;
  bool complete = false;
  auto r = queue::split_records(todo, &complete);
  CHECK(complete);
  REQUIRE(r.size() == 5);
  CHECK(r[0].type == 'u');
  CHECK(r[0].value == "1000");
  CHECK(r[2].type == 'F');
  CHECK(r[2].value == "joe@a.example");
  CHECK(r[3].type == 'T');
  CHECK(r[3].offset == 25);
  CHECK(todo[static_cast<size_t>(r[4].offset)] == 'T');
}

TEST_CASE("envelope: incomplete tail and empty records") {
  bool complete = true;
  auto r = queue::split_records("Ta\0\0Tb"sv, &complete);
  CHECK_FALSE(complete);
  REQUIRE(r.size() == 2);
  CHECK(r[1].type == 0);
  CHECK(r[1].offset == 3);
}

TEST_CASE("envelope: info file") {
  std::string s;
  CHECK(queue::parse_info("Fjoe@x\0"sv, s));
  CHECK(s == "joe@x");
  CHECK(queue::parse_info("F\0"sv, s));
  CHECK(s.empty());
  CHECK_FALSE(queue::parse_info("Tjoe\0"sv, s));
  CHECK_FALSE(queue::parse_info("Fjoe"sv, s));
  CHECK(queue::encode_info("a@b") == "Fa@b\0"s);
}
