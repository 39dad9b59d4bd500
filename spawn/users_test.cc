// Unit tests of users/assign parsing, users/cdb compilation and lookup.
#include "spawn/users.h"

#include <cstdlib>
#include <map>
#include <unistd.h>

#include <doctest/doctest.h>

#include "reactor/cdb.h"
#include "reactor/fd.h"

using namespace spawn;
using namespace std::string_literals;

namespace {

// An in-memory cdb: first record per key wins, like cdb_find.
struct FakeCdb {
  std::multimap<std::string, std::string> m;
  std::vector<std::string> probes;
  explicit FakeCdb(const UsersAssign& a) {
    for (const auto& r : a.records) m.emplace(r.key, r.value);
    m.emplace("", a.wildchars);
  }
  UsersProbe probe() {
    return [this](std::string_view k) -> reactor::Result<std::optional<std::string>> {
      probes.emplace_back(k);
      auto it = m.find(std::string(k));
      if (it == m.end()) return std::optional<std::string>();
      return std::optional<std::string>(it->second);
    };
  }
};

UsersAssign parse_ok(std::string_view text) {
  auto a = parse_assign(text);
  REQUIRE(a.ok());
  return *a;
}

}  // namespace

TEST_CASE("users/assign: simple and wildcard records in cdb form") {
  auto a = parse_ok("=Joe:joe:507:100:/home/joe:::\n+joe-:joe:507:100:/home/joe:-::\n"
                    "+:alias:7790:2108:/var/qmail/alias:-::\n.\n");
  REQUIRE(a.records.size() == 3);
  CHECK(a.records[0].key == "!joe\0"s);
  CHECK(a.records[0].value == "joe\0" "507\0" "100\0/home/joe\0\0"s);
  CHECK(a.records[1].key == "!joe-");
  CHECK(a.records[1].value == "joe\0" "507\0" "100\0/home/joe\0-\0"s);
  CHECK(a.records[2].key == "!");
  CHECK(a.wildchars == "-");  // the empty prefix adds nothing
}

TEST_CASE("users/assign: format errors") {
  CHECK_FALSE(parse_assign("=joe:joe:507:100:/home/joe:::\n").ok());  // no final '.'
  CHECK_FALSE(parse_assign("").ok());
  CHECK_FALSE(parse_assign("=joe:joe:507:100:/home/joe::\n.\n").ok());  // five colons
  CHECK_FALSE(parse_assign("joe\n.\n").ok());                           // no colon
  CHECK_FALSE(parse_assign(":joe:507:100:/home/joe:::\n.\n").ok());     // empty first field
  CHECK_FALSE(parse_assign("=jo\0e:joe:507:100:/h:::\n.\n"s).ok());     // NUL byte
  auto e = parse_assign("=x\n.\n");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().text == "bad format in users/assign");
  // A '.' line without newline and any line starting with '.' end the file.
  CHECK(parse_assign(".").ok());
  CHECK(parse_assign("=a:a:1:1:/a:::\n.end\ngarbage").ok());
}

TEST_CASE("users/assign: everything after the sixth colon is dropped") {
  auto a = parse_ok("=joe:joe:507:100:/home/joe:-:ext:trailing junk\n.\n");
  CHECK(a.records[0].value == "joe\0" "507\0" "100\0/home/joe\0-\0ext"s);
  auto b = parse_ok("#joe:joe:1:2:/h:::\n.\n");  // any first char but '+' is '='
  CHECK(b.records[0].key == "!joe\0"s);
}

TEST_CASE("users/assign: AutoTURN and ISP guide lines") {
  auto a = parse_ok("+autoturn-:qmaild:7770:2108:/var/qmail/autoturn:-::\n"
                    "+example.com-:ex1:510:51:/home/popmail/e/ex1/DOMAINS/example.com:-::\n.\n");
  CHECK(a.wildchars == "-");
  FakeCdb db(a);
  auto r = lookup_users(db.probe(), "autoturn-1.2.3.4-Joe");
  REQUIRE(r.ok());
  REQUIRE(*r);
  CHECK((*r)->user == "qmaild");
  CHECK((*r)->uid == 7770);
  CHECK((*r)->gid == 2108);
  CHECK((*r)->home == "/var/qmail/autoturn");
  CHECK((*r)->dash == "-");
  CHECK((*r)->ext == "1.2.3.4-Joe");
  auto s = lookup_users(db.probe(), "Example.COM-joe");
  REQUIRE(s.ok());
  REQUIRE(*s);
  CHECK((*s)->user == "ex1");
  CHECK((*s)->ext == "joe");
}

TEST_CASE("users/cdb lookup: simple beats wildcard, longest prefix wins, catch-all") {
  auto a = parse_ok("+:alias:7790:2108:/var/qmail/alias:-::\n"
                    "+joe-:joe:507:100:/home/joe:-::\n"
                    "=joe:joe:507:100:/home/joe:::\n"
                    "+joe-list-:list:600:100:/home/list:-:pre-:\n.\n");
  FakeCdb db(a);
  auto r = lookup_users(db.probe(), "JOE");
  REQUIRE(r.ok());
  REQUIRE(*r);
  CHECK((*r)->user == "joe");
  CHECK((*r)->dash == "");
  CHECK((*r)->ext == "");

  r = lookup_users(db.probe(), "joe-Foo");
  REQUIRE(*r);
  CHECK((*r)->user == "joe");
  CHECK((*r)->ext == "Foo");

  r = lookup_users(db.probe(), "joe-list-X");
  REQUIRE(*r);
  CHECK((*r)->user == "list");
  CHECK((*r)->ext == "pre-X");

  r = lookup_users(db.probe(), "Nobody");
  REQUIRE(*r);
  CHECK((*r)->user == "alias");
  CHECK((*r)->ext == "Nobody");
}

TEST_CASE("users/cdb lookup: probes only prefixes ending in a wildcard character") {
  auto a = parse_ok("+joe-:joe:507:100:/home/joe:-::\n.\n");
  FakeCdb db(a);
  auto r = lookup_users(db.probe(), "abc");
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  // key "", the simple key, then only "!" (no prefix ends in '-').
  REQUIRE(db.probes.size() == 3);
  CHECK(db.probes[0] == "");
  CHECK(db.probes[1] == "!abc\0"s);
  CHECK(db.probes[2] == "!");
}

TEST_CASE("users/cdb lookup: first duplicate wins; missing key \"\" is trouble") {
  auto a = parse_ok("=joe:first:1:1:/a:::\n=joe:second:2:2:/b:::\n.\n");
  FakeCdb db(a);
  auto r = lookup_users(db.probe(), "joe");
  REQUIRE(*r);
  CHECK((*r)->user == "first");
  UsersProbe none = [](std::string_view) -> reactor::Result<std::optional<std::string>> {
    return std::optional<std::string>();
  };
  CHECK_FALSE(lookup_users(none, "joe").ok());
}

TEST_CASE("users/cdb through a real cdb file") {
  char dir[] = "/tmp/evq-users-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::string path = std::string(dir) + "/cdb";
  auto missing = lookup_users_cdb(path, "joe");
  REQUIRE(missing.ok());
  CHECK_FALSE(*missing);
  auto a = parse_ok("=joe:joe:507:100:/home/joe:::\n=joe:dup:1:1:/x:::\n+joe-:joe:507:100:/home/joe:-::\n.\n");
  REQUIRE(write_users_cdb(a, path).ok());
  CHECK_FALSE(reactor::exists(path + ".tmp"));
  auto r = lookup_users_cdb(path, "joe-Bar");
  REQUIRE(r.ok());
  REQUIRE(*r);
  CHECK((*r)->ext == "Bar");
  r = lookup_users_cdb(path, "Joe");
  REQUIRE(*r);
  CHECK((*r)->user == "joe");  // the first of two duplicate lines
  ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST_CASE("parse_user_fields accepts qmail-getpw output with its final NUL") {
  auto e = parse_user_fields("joe\0" "507\0" "100\0/home/joe\0-\0ext\0"s);
  REQUIRE(e);
  CHECK(e->ext == "ext");
  CHECK_FALSE(parse_user_fields("joe\0" "507\0"s));
}
