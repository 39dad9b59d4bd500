// Unit tests of the qmail-inject and sendmail command lines (inject_args.h).
#include "queue/inject_args.h"

#include <doctest/doctest.h>

using namespace queue;
using Strs = std::vector<std::string>;
using Action = SendmailPlan::Action;

TEST_CASE("inject_args: qmail-inject options") {
  auto a = parse_inject_args({"-nH", "-f", "me@x", "a", "-b"});
  REQUIRE(a);
  CHECK(a->mode == RecipMode::both);
  CHECK_FALSE(a->queue);
  CHECK(a->sender == "me@x");
  CHECK(a->recipients == Strs{"a", "-b"});
  a = parse_inject_args({"-fme", "--", "-x"});
  REQUIRE(a);
  CHECK(a->sender == "me");
  CHECK(a->recipients == Strs{"-x"});
  CHECK(parse_inject_args({"-a"})->mode == RecipMode::args);
  CHECK(parse_inject_args({"-h"})->mode == RecipMode::header);
  CHECK_FALSE(parse_inject_args({"-F", "Name"}));  // only sendmail has -F
  CHECK_FALSE(parse_inject_args({"-f"}));
}

TEST_CASE("inject_args: sendmail translation") {
  auto p = plan_sendmail("sendmail", {"-oem", "-oi", "-t"}, false);
  CHECK(p.action == Action::inject);
  CHECK(p.argv == Strs{"bin/qmail-inject", "-H", "--"});
  p = plan_sendmail("sendmail", {"-t", "-i", "-f", "bounce@x", "-Fjoe q", "a@b", "c"}, false);
  CHECK(p.argv == Strs{"bin/qmail-inject", "-H", "-f", "bounce@x", "--", "a@b", "c"});
  CHECK(p.setenv == std::vector<std::pair<std::string, std::string>>{{"MAILNAME", "joe q"}});
  p = plan_sendmail("sendmail", {"-B", "8BITMIME", "-v", "-x", "-m", "-eq", "-odb", "-Jjunk", "-E", "a"}, false);
  CHECK(p.action == Action::inject);
  CHECK(p.argv == Strs{"bin/qmail-inject", "-a", "--", "a"});
  CHECK(plan_sendmail("sendmail", {"-bm", "x"}, false).argv == Strs{"bin/qmail-inject", "-a", "--", "x"});
  CHECK(plan_sendmail("sendmail", {"-bp"}, false).argv == Strs{"bin/qmail-qread"});
  CHECK(plan_sendmail("mailq", {}, false).action == Action::mailq);
  CHECK(plan_sendmail("newaliases", {}, false).action == Action::newaliases);
  CHECK(plan_sendmail("sendmail", {"-q"}, false).action == Action::usage);
  CHECK(plan_sendmail("sendmail", {"-bz"}, false).action == Action::usage);
  CHECK(plan_sendmail("sendmail", {"-f"}, false).action == Action::usage);
  p = plan_sendmail("sendmail", {"-bs"}, false);
  CHECK(p.action == Action::smtpd);
  CHECK(p.argv == Strs{"bin/qmail-smtpd"});
  CHECK(p.setenv.size() == 8);
  CHECK(p.setenv.back() == std::pair<std::string, std::string>{"TCPREMOTEINFO", "sendmail-bs"});
  CHECK(plan_sendmail("sendmail", {"-bs"}, true).setenv.empty());
}
