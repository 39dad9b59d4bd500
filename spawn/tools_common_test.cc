// Unit tests of the exit-code rules of except, bouncesaying and condredirect.
#include "spawn/tools_common.h"

#include <doctest/doctest.h>

using namespace spawn;

TEST_CASE("except exit codes") {
  CHECK(except_exit({false, 0}) == 100);
  CHECK(except_exit({false, 111}) == 111);
  CHECK(except_exit({false, 100}) == 0);
  CHECK(except_exit({false, 1}) == 0);
  CHECK(except_exit({true, 0}) == 111);
}

TEST_CASE("condredirect / bouncesaying program verdicts") {
  CHECK_FALSE(filter_exit({false, 0}));
  CHECK(*filter_exit({false, 111}) == 111);
  CHECK(*filter_exit({false, 100}) == 0);
  CHECK(*filter_exit({false, 99}) == 0);
  CHECK(*filter_exit({true, 0}) == 111);
}

TEST_CASE("preline header order and omissions") {
  CHECK(preline_header(true, true, true, "From a\n", "Return-Path: <a>\n", "Delivered-To: b\n") ==
        "From a\nReturn-Path: <a>\nDelivered-To: b\n");
  CHECK(preline_header(false, true, false, "F\n", "R\n", "D\n") == "R\n");
}

TEST_CASE("run_program reports exit codes and exec failures") {
  char sh[] = "sh", c[] = "-c", cmd[] = "exit 42";
  char* argv[] = {sh, c, cmd, nullptr};
  auto r = run_program(argv);
  REQUIRE(r.ok());
  CHECK(r->code == 42);
  char missing[] = "/nonexistent/evq-program";
  char* argv2[] = {missing, nullptr};
  r = run_program(argv2);
  REQUIRE(r.ok());
  CHECK(r->code == 100);
}
