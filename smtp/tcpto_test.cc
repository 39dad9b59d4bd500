// queue/lock/tcpto records in qmail's byte format.
#include "smtp/tcpto.h"

#include <doctest/doctest.h>

using namespace smtp::tcpto;

TEST_CASE("tcpto: records, skip window, listing") {
  std::string t(kFileSize, '\0');
  const std::uint8_t ip[4] = {192, 0, 2, 5};
  CHECK(record_result(t, ip, false, 1000, false) == -1);  // success of an unknown host: nothing
  CHECK(record_result(t, ip, true, 1000, false) == 0);
  CHECK(t.substr(0, 12) == std::string("\xc0\x00\x02\x05\x01\x00\x00\x00\xe8\x03\x00\x00", 12));
  CHECK_FALSE(should_skip(t, ip, 1001, 0));  // one timeout is not enough
  CHECK(record_result(t, ip, true, 1050, true) == -1);  // within two minutes: counted once
  CHECK(record_result(t, ip, true, 1200, true) == 0);
  CHECK(static_cast<int>(t[4]) == 2);
  CHECK(should_skip(t, ip, 1200 + 60 * 64 - 1, 0));
  CHECK_FALSE(should_skip(t, ip, 1200 + 60 * 64, 0));
  CHECK(should_skip(t, ip, 1200 + 91 * 64 - 1, 31));  // the window grows with pid & 31
  CHECK(listing(t, 1300) == "192.0.2.5 timed out 100 seconds ago; # recent timeouts: 2\n");
  CHECK(record_result(t, ip, false, 1300, true) == 0);  // success clears the count
  CHECK(listing(t, 1300).empty());
}

TEST_CASE("tcpto: a full table replaces the oldest record") {
  std::string t(kFileSize, '\0');
  for (int i = 0; i < 64; ++i) {
    std::uint8_t ip[4] = {10, 0, 0, static_cast<std::uint8_t>(i + 1)};
    record_result(t, ip, true, 5000 + static_cast<std::uint32_t>(i == 7 ? 0 : 100 + i), false);
  }
  std::uint8_t fresh[4] = {10, 9, 9, 9};
  CHECK(record_result(t, fresh, true, 9000, false) == 7);
  CHECK(present(t, fresh));
}
