// Unit tests of POP3 command splitting and number scanning.
#include "pop3/command.h"

#include <doctest/doctest.h>

using namespace pop3;

TEST_CASE("command: verb and argument") {
  Command c = parse_command("ReTr  12 3\r");
  CHECK(c.verb == "retr");
  CHECK(c.arg == "12 3");
  CHECK(parse_command("QUIT").arg.empty());
  CHECK(parse_command("").verb.empty());
  CHECK(parse_command("user ").arg.empty());
}

TEST_CASE("command: numbers saturate instead of wrapping") {
  CHECK(scan_number("42 x").value == 42);
  CHECK(scan_number("42 x").digits == 2);
  CHECK(scan_number("x").digits == 0);
  CHECK(scan_number("18446744073709551615").value == UINT64_MAX);
  CHECK_FALSE(scan_number("18446744073709551615").overflow);
  CHECK(scan_number("18446744073709551616").overflow);
  CHECK(scan_number("184467440737095516160000").digits == 24);
}
