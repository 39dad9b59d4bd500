// qmail-rspawn's translation of qmail-remote output, and slot planning.
#include "spawn/rspawn.h"

#include <doctest/doctest.h>

using spawn::rspawn_report;

namespace {
std::string z(std::string s) {
  for (auto& c : s)
    if (c == '|') c = '\0';
  return s;
}
constexpr int kExit0 = 0;          // wait status of exit 0
constexpr int kExit111 = 111 << 8;
constexpr int kExit100 = 100 << 8;
constexpr int kKilled = 9;         // killed by SIGKILL
}  // namespace

TEST_CASE("rspawn: translation of qmail-remote reports") {
  CHECK(rspawn_report(kExit0, z("r|K192.0.2.5 accepted message.\nRemote host said: 250 ok\n|")) ==
        "K192.0.2.5 accepted message.\nRemote host said: 250 ok\n");
  CHECK(rspawn_report(kExit0, z("h192.0.2.5 does not like recipient.\nRemote host said: 550 no\n|"
                               "DGiving up on 192.0.2.5.\n|")) ==
        "D192.0.2.5 does not like recipient.\nRemote host said: 550 no\nGiving up on 192.0.2.5.\n");
  // A soft recipient failure with a permanent message result stays soft and
  // appends nothing (the message result is worse than the recipient's).
  CHECK(rspawn_report(kExit0, z("s192.0.2.5 does not like recipient.\nRemote host said: 450 later\n|"
                               "DGiving up on 192.0.2.5.\n|")) ==
        "Z192.0.2.5 does not like recipient.\nRemote host said: 450 later\nGiving up on 192.0.2.5.\n");
  CHECK(rspawn_report(kExit0, z("ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n|")) ==
        "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n");
  CHECK(rspawn_report(kExit0, z("r|Z192.0.2.5 failed after I sent the message.\n|")) ==
        "Z192.0.2.5 failed after I sent the message.\n");
  CHECK(rspawn_report(kExit0, "") == "Zqmail-remote produced no output.\n");
  CHECK(rspawn_report(kExit111, "x") == "ZUnable to run qmail-remote.\n");
  CHECK(rspawn_report(kExit100, "x") == "DUnable to run qmail-remote.\n");
  CHECK(rspawn_report(kKilled, "x") == "Zqmail-remote crashed.\n");
  CHECK(rspawn_report(kExit0, z("garbage|")) == "Darbage");  // no K/Z/D at all: permanent
}

TEST_CASE("rspawn: slots from the descriptor limit") {
  auto p = spawn::plan_slots(20000, true);
  CHECK(p.slots == 1000);
  CHECK(p.wide);
  CHECK_FALSE(p.fd_limited);
  p = spawn::plan_slots(1024, true);
  CHECK(p.slots == 504);
  CHECK(p.fd_limited);
  CHECK(p.wide);
  p = spawn::plan_slots(20000, false);
  CHECK(p.slots == 255);
  CHECK_FALSE(p.wide);
  p = spawn::plan_slots(256, true);
  CHECK(p.slots == 120);
  CHECK_FALSE(p.wide);
}
