// Unit tests of qmail-lspawn's pure pieces: report mapping, request checks,
// output truncation and qmail-local's argument vector.
#include "spawn/lspawn.h"

#include <csignal>
#include <sys/wait.h>

#include <doctest/doctest.h>

#include "spawn/getpw.h"

using namespace spawn;
using namespace std::string_literals;

namespace {

int exited(int code) { return code << 8; }  // a wait status for exit(code)

}  // namespace

TEST_CASE("lspawn report: qmail-local exit codes map to K/Z/D") {
  CHECK(child_report(exited(0), "did 0+0+1/\n") == "Kdid 0+0+1/\n");
  for (int z : {111, 71, 74, 75}) CHECK(child_report(exited(z), "x") == "Zx");
  for (int d : {100, 1, 64, 99}) CHECK(child_report(exited(d), "x") == "Dx");
  CHECK(child_report(SIGKILL, "partial") == "Zqmail-local crashed.\n");
  // Text stops at the first NUL.
  CHECK(child_report(exited(0), "ok\0hidden"s) == "Kok");
}

TEST_CASE("lspawn report: internal codes of the delivery child") {
  CHECK(child_report(exited(qlx::kRoot), "") == "ZNot allowed to perform deliveries as root.\n");
  CHECK(child_report(exited(qlx::kCdb), "") == "ZTrouble reading users/cdb in qmail-lspawn.\n");
  CHECK(child_report(exited(qlx::kNoAlias), "") == "ZUnable to find alias user!\n");
  CHECK(child_report(exited(qlx::kExecHard), "") == "DUnable to run qmail-local.\n");
  CHECK(child_report(exited(qlx::kExecSoft), "") == "ZUnable to run qmail-local.\n");
  CHECK(child_report(exited(qlx::kNfs), "") == "ZNFS failure in qmail-local.\n");
}

TEST_CASE("lspawn request checks") {
  Request r{0, "7/30", "a@b", "joe@example.com"};
  CHECK_FALSE(check_request(r, 120, false));
  CHECK(*check_request(r, 120, true) == "ZInternal error: delnum in use. (#4.3.5)\n");
  r.slot = 120;
  CHECK(check_request(r, 120, false)->substr(0, 30) == "ZInternal error: delnum too bi");
  r.slot = 1;
  for (const char* bad : {"../x", "/7/30", "7/", "7/3/0", "730", "7/3a", "7//30"}) {
    r.mess = bad;
    auto e = check_request(r, 120, false);
    REQUIRE(e);
    CHECK((*e)[0] == 'D');
  }
  r.mess = "";
  CHECK(*check_request(r, 120, false) == "DInternal error: messid too short. (#5.3.5)\n");
  r.mess = "1/" + std::string(99, '1');
  CHECK(*check_request(r, 120, false) == "DInternal error: messid too long. (#5.3.5)\n");
  r.mess = "1/2";
  r.recipient = "joe";
  CHECK(*check_request(r, 120, false) == "DSorry, address must include host name. (#5.1.3)\n");
  r.recipient = "@example.com";  // trash address: valid
  CHECK_FALSE(check_request(r, 120, false));
}

TEST_CASE("lspawn output is cut near 3000 bytes with a note") {
  OutputCollector c;
  c.add(std::string(2000, 'a'));
  CHECK(c.text().size() == 2000);
  c.add(std::string(2000, 'b'));
  CHECK(c.text().size() <= kTruncReport);
  CHECK(c.text().find("Error report too long, sorry.") != std::string::npos);
  std::string before = c.text();
  c.add("more");
  CHECK(c.text() == before);
  c.clear();
  CHECK(c.text().empty());
}

TEST_CASE("qmail-local argument vector") {
  UserEntry u{"joe", 507, 100, "/home/joe", "-", "ext"};
  auto a = qmail_local_args(u, "joe-ext", "example.com", "s@x", "./Maildir/");
  std::vector<std::string> want{"bin/qmail-local", "--", "joe", "/home/joe", "joe-ext", "-", "ext",
                                "example.com", "s@x", "./Maildir/"};
  CHECK(a == want);
}
