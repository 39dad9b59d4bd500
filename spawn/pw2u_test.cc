// Unit tests of qmail-pw2u's conversion.
#include "spawn/pw2u.h"

#include <cerrno>
#include <map>

#include <doctest/doctest.h>

using namespace spawn;

namespace {

struct Homes : PasswdDb {
  std::map<std::string, std::pair<int, uid_t>> dirs;
  reactor::Result<std::optional<PwEntry>> find(const std::string&) override { return std::optional<PwEntry>(); }
  int stat_owner(const std::string& dir, uid_t& owner) override {
    auto it = dirs.find(dir);
    if (it == dirs.end()) return ENOENT;
    owner = it->second.second;
    return it->second.first;
  }
};

const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "alias:*:7790:2108::/var/qmail/alias:/bin/true\n"
    "joe:x:507:100:Joe:/home/joe:/bin/sh\n"
    "Upper:x:508:100::/home/upper:/bin/sh\n"
    "gone:x:509:100::/home/gone:/bin/sh\n"
    "stolen:x:510:100::/home/joe:/bin/sh\n"
    "short:x:511:100::/home/short\n"
    "last:x:512:100::/home/last:/bin/sh";

Homes homes() {
  Homes h;
  h.dirs["/var/qmail/alias"] = {0, 7790};
  h.dirs["/home/joe"] = {0, 507};
  h.dirs["/home/upper"] = {0, 508};
  h.dirs["/home/last"] = {0, 512};
  return h;
}

}  // namespace

TEST_CASE("pw2u: default rules") {
  Homes h = homes();
  auto r = pw2u(kPasswd, Pw2uOptions{}, Pw2uFiles{}, h);
  REQUIRE(r.ok());
  CHECK(*r ==
        "+:alias:7790:2108:/var/qmail/alias:-::\n"
        "=alias:alias:7790:2108:/var/qmail/alias:::\n"
        "+alias-:alias:7790:2108:/var/qmail/alias:-::\n"
        "=joe:joe:507:100:/home/joe:::\n"
        "+joe-:joe:507:100:/home/joe:-::\n"
        "=last:last:512:100:/home/last:::\n"
        "+last-:last:512:100:/home/last:-::\n"
        ".\n");
}

TEST_CASE("pw2u: options -u -H -C -/ -c") {
  Homes h = homes();
  Pw2uOptions o;
  char a0[] = "qmail-pw2u", a1[] = "-uC", a2[] = "-/";
  char* argv[] = {a0, a1, a2, nullptr};
  REQUIRE(parse_pw2u_options(3, argv, o));
  auto r = pw2u("alias:*:7790:1::/var/qmail/alias:\nUpper:x:508:100::/home/upper:\n", o, Pw2uFiles{}, h);
  REQUIRE(r.ok());
  CHECK(*r == "+:alias:7790:1:/var/qmail/alias:-/::\n=alias:alias:7790:1:/var/qmail/alias:::\n"
              "=Upper:Upper:508:100:/home/upper:::\n.\n");
  Pw2uOptions p;
  char b1[] = "-H", b2[] = "-c+";
  char* argv2[] = {a0, b1, b2, nullptr};
  REQUIRE(parse_pw2u_options(3, argv2, p));
  r = pw2u("alias:*:1:1::/nowhere:\n", p, Pw2uFiles{}, h);
  REQUIRE(r.ok());
  CHECK(*r == "+:alias:1:1:/nowhere:-::\n=alias:alias:1:1:/nowhere:::\n+alias+:alias:1:1:/nowhere:-::\n.\n");
  Pw2uOptions bad;
  char c1[] = "-x";
  char* argv3[] = {a0, c1, nullptr};
  CHECK_FALSE(parse_pw2u_options(2, argv3, bad));
}

TEST_CASE("pw2u: -h stops at a missing home; no alias is fatal") {
  Homes h = homes();
  Pw2uOptions o;
  o.home_strategy = 1;
  auto r = pw2u(kPasswd, o, Pw2uFiles{}, h);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().text == "unable to stat /home/gone");
  r = pw2u("joe:x:507:100:Joe:/home/joe:/bin/sh\n", Pw2uOptions{}, Pw2uFiles{}, h);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().text == "unable to find alias user");
}

TEST_CASE("pw2u: include, exclude, mailnames, subusers, append") {
  Homes h = homes();
  Pw2uFiles f;
  f.exclude = std::vector<std::string>{"last"};
  f.mailnames = std::vector<std::string>{"joe:joe:Joseph.Smith"};
  f.subusers = "help:joe:helpdesk:\nbroken\n";
  f.append = "+autoturn-:qmaild:7770:2108:/var/qmail/autoturn:-::";
  auto r = pw2u(kPasswd, Pw2uOptions{}, f, h);
  REQUIRE(r.ok());
  CHECK(*r ==
        "+:alias:7790:2108:/var/qmail/alias:-::\n"
        "=alias:alias:7790:2108:/var/qmail/alias:::\n"
        "+alias-:alias:7790:2108:/var/qmail/alias:-::\n"
        "=joe:joe:507:100:/home/joe:::\n"
        "+joe-:joe:507:100:/home/joe:-::\n"
        "=Joseph.Smith:joe:507:100:/home/joe:::\n"
        "+Joseph.Smith-:joe:507:100:/home/joe:-::\n"
        "=help:joe:507:100:/home/joe:-:helpdesk:\n"
        "+help-:joe:507:100:/home/joe:-:helpdesk-:\n"
        "+autoturn-:qmaild:7770:2108:/var/qmail/autoturn:-::\n"
        ".\n");
  Pw2uFiles g;
  g.include = std::vector<std::string>{"alias"};
  g.subusers = "x:joe:pre:\n";
  r = pw2u(kPasswd, Pw2uOptions{}, g, h);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().text == "unable to find joe user for subuser");
}
