// Unit tests of qmail-send's log lines.
#include "queue/send_log.h"

#include <doctest/doctest.h>

TEST_CASE("send_log: logsafe map of qsutil.c") {
  CHECK(queue::log_safe("did 0+0+1\n") == "did_0+0+1/");
  CHECK(queue::log_safe("a%b\tc\x7f\xe9") == "a_b_c__");
  CHECK(queue::log_safe("x@y.example") == "x@y.example");
}

TEST_CASE("send_log: line formats") {
  std::string out;
  queue::SendLog log([&](std::string_view s) { out += s; });
  log.status(1, 10, 0, 20, false);
  log.status(0, 10, 0, 20, true);
  log.starting(3, 1234, 0, "joe@a b");
  log.starting(4, 1234, 1, "x@y");
  log.report(3, 'K', "did 0+0+1/");
  log.report(4, 'Z', "try again");
  log.report(5, 'D', "no mailbox");
  log.report(6, 'X', "junk");
  log.info(1234, 456, "a@b", 77, 1000);
  CHECK(out ==
        "status: local 1/10 remote 0/20\n"
        "status: local 0/10 remote 0/20 exitasap\n"
        "starting delivery 3: msg 1234 to local joe@a_b\n"
        "starting delivery 4: msg 1234 to remote x@y\n"
        "delivery 3: success: did_0+0+1/\n"
        "delivery 4: deferral: try_again\n"
        "delivery 5: failure: no_mailbox\n"
        "delivery 6: report mangled, will defer\n"
        "info msg 1234: bytes 456 from <a@b> qp 77 uid 1000\n");
}
