// Unit tests of the pure parts of the qmail-local engine; the engine itself is
// exercised end to end by tests/e2e/test_local.py.
#include "spawn/local.h"

#include <doctest/doctest.h>

using namespace spawn;

namespace {

bool scan(std::string_view msg, std::string_view dt, size_t chunk = 1000) {
  HeaderLineScan s{std::string(dt)};
  for (size_t i = 0; i < msg.size(); i += chunk)
    if (s.feed(msg.substr(i, chunk))) return s.found();
  s.feed("");
  return s.found();
}

}  // namespace

TEST_CASE("local: Delivered-To loop scan") {
  const std::string dt = "Delivered-To: joe@x.org\n";
  for (size_t chunk : {1u, 3u, 1000u}) {
    CHECK(scan("Subject: a\nDelivered-To: joe@x.org\n\nbody\n", dt, chunk));
    CHECK(!scan("Subject: a\n\nDelivered-To: joe@x.org\n", dt, chunk));          // in the body
    CHECK(!scan("Delivered-To: Joe@x.org\n\n", dt, chunk));                       // case differs
    CHECK(!scan("Delivered-To: joe@x.org \n\n", dt, chunk));                      // not exact
    CHECK(!scan("Delivered-To: joe@x.org.uk\n\n", dt, chunk));
    CHECK(!scan("Subject: a\nDelivered-To: joe@x.org", dt, chunk));               // no newline: not header
    CHECK(!scan("Delivered-To: joe@x.org\r\n\r\n", dt, chunk));
    CHECK(scan("X: " + std::string(5000, 'a') + "\nDelivered-To: joe@x.org\n", dt, chunk));
  }
}

TEST_CASE("local: program exit codes") {
  auto exited = [](int code) { return code << 8; };
  CHECK(program_outcome(exited(0)) == ProgramOutcome::ok);
  CHECK(program_outcome(exited(99)) == ProgramOutcome::ok_stop);
  for (int c : {100, 64, 65, 70, 76, 77, 78, 112}) CHECK(program_outcome(exited(c)) == ProgramOutcome::permanent);
  for (int c : {1, 2, 111, 71, 75, 101, 255}) CHECK(program_outcome(exited(c)) == ProgramOutcome::temporary);
  CHECK(program_outcome(9) == ProgramOutcome::crashed);  // killed by SIGKILL
}
