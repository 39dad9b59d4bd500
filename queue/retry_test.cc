// Unit tests of the retry schedule.
#include "queue/retry.h"

#include <doctest/doctest.h>

TEST_CASE("retry: integer square root") {
  CHECK(queue::isqrt(0) == 0);
  CHECK(queue::isqrt(1) == 1);
  CHECK(queue::isqrt(99) == 9);
  CHECK(queue::isqrt(100) == 10);
  CHECK(queue::isqrt(604800) == 777);
  CHECK(queue::isqrt(-5) == 0);
}

TEST_CASE("retry: quadratic schedule per channel") {
  const std::time_t b = 1000000;
  CHECK(queue::next_retry(b, b, 0) == b + 100);
  CHECK(queue::next_retry(b, b + 100, 0) == b + 400);
  CHECK(queue::next_retry(b, b + 400, 0) == b + 900);
  CHECK(queue::next_retry(b, b, 1) == b + 400);
  CHECK(queue::next_retry(b, b + 400, 1) == b + 1600);
  CHECK(queue::next_retry(b, b + 1600, 1) == b + 3600);
  // birth in the future: the square root term is 0
  CHECK(queue::next_retry(b + 50, b, 0) == b + 50 + 100);
}

TEST_CASE("retry: dying after the lifetime") {
  CHECK_FALSE(queue::is_dying(100, 103, 3));
  CHECK(queue::is_dying(100, 104, 3));
}
