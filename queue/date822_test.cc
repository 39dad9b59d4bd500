// Unit tests of date formatting.
#include "queue/date822.h"

#include <doctest/doctest.h>

TEST_CASE("qmail's UTC date form") {
  CHECK(queue::date822_utc(1605956160) == "21 Nov 2020 10:56:00 -0000");
  CHECK(queue::date822_utc(0) == "1 Jan 1970 00:00:00 -0000");
  CHECK(queue::date_ctime_utc(1605956160) == "Sat Nov 21 10:56:00 2020");
  CHECK(queue::date_ctime_utc(1604228160) == "Sun Nov 01 10:56:00 2020");  // zero-padded as qmail's myctime
}
