// Unit tests of qmail-getpw's rules over a fake passwd.
#include "spawn/getpw.h"

#include <cerrno>
#include <map>

#include <doctest/doctest.h>

using namespace spawn;
using namespace std::string_literals;

namespace {

struct FakePasswd : PasswdDb {
  std::map<std::string, PwEntry> users;
  std::map<std::string, std::pair<int, uid_t>> dirs;  // dir -> (errno, owner)
  bool fail = false;
  reactor::Result<std::optional<PwEntry>> find(const std::string& name) override {
    if (fail) return reactor::temp_error("ETXTBSY");
    auto it = users.find(name);
    if (it == users.end()) return std::optional<PwEntry>();
    return std::optional<PwEntry>(it->second);
  }
  int stat_owner(const std::string& dir, uid_t& owner) override {
    auto it = dirs.find(dir);
    if (it == dirs.end()) return ENOENT;
    owner = it->second.second;
    return it->second.first;
  }
  void add(const std::string& name, uid_t uid, const std::string& dir, uid_t owner) {
    users[name] = PwEntry{name, uid, 100, dir};
    dirs[dir] = {0, owner};
  }
};

GetpwContext multi() {
  GetpwContext c;
  c.single_user = false;
  c.my_uid = 0;
  return c;
}

}  // namespace

TEST_CASE("getpw: whole local part, then prefixes before '-', longest first") {
  FakePasswd pw;
  pw.add("joe", 507, "/home/joe", 507);
  pw.add("joe-list", 508, "/home/list", 508);
  pw.add("alias", 7790, "/var/qmail/alias", 0);
  auto r = getpw("Joe", pw, multi());
  REQUIRE(r.entry);
  CHECK(r.entry->user == "joe");
  CHECK(r.entry->dash == "");
  CHECK(r.entry->ext == "");
  r = getpw("joe-Foo-bar", pw, multi());
  REQUIRE(r.entry);
  CHECK(r.entry->user == "joe");
  CHECK(r.entry->dash == "-");
  CHECK(r.entry->ext == "Foo-bar");
  r = getpw("joe-list-x", pw, multi());
  REQUIRE(r.entry);
  CHECK(r.entry->user == "joe-list");
  CHECK(r.entry->ext == "x");
}

TEST_CASE("getpw: candidates need uid != 0 and an existing home they own") {
  FakePasswd pw;
  pw.add("root", 0, "/root", 0);
  pw.add("bob", 600, "/home/bob", 0);       // home owned by someone else
  pw.users["gone"] = PwEntry{"gone", 601, 100, "/home/gone"};  // no home
  pw.add("alias", 7790, "/var/qmail/alias", 7790);
  for (const char* l : {"root", "bob", "gone-x"}) {
    auto r = getpw(l, pw, multi());
    REQUIRE(r.entry);
    CHECK(r.entry->user == "alias");
    CHECK(r.entry->uid == 7790);
    CHECK(r.entry->dash == "-");
    CHECK(r.entry->ext == l);
  }
}

TEST_CASE("getpw: names of 32 characters or more are never tried") {
  FakePasswd pw;
  std::string longname(32, 'a');
  pw.add(longname, 700, "/home/long", 700);
  pw.add("alias", 7790, "/a", 7790);
  auto r = getpw(longname, pw, multi());
  REQUIRE(r.entry);
  CHECK(r.entry->user == "alias");
  std::string shorter(31, 'a');
  pw.add(shorter, 701, "/home/short", 701);
  r = getpw(shorter + "-x", pw, multi());
  REQUIRE(r.entry);
  CHECK(r.entry->user == shorter);
}

TEST_CASE("getpw: failures") {
  FakePasswd pw;
  auto r = getpw("nobody", pw, multi());
  CHECK_FALSE(r.entry);
  CHECK(r.failure == GetpwFailure::noalias);
  pw.users["nfs"] = PwEntry{"nfs", 800, 100, "/net/nfs"};
  pw.dirs["/net/nfs"] = {EIO, 0};
  r = getpw("nfs", pw, multi());
  CHECK_FALSE(r.entry);
  CHECK(r.failure == GetpwFailure::nfs);
  pw.fail = true;
  r = getpw("x", pw, multi());
  CHECK(r.failure == GetpwFailure::sys);
}

TEST_CASE("getpw: single-user tree uses only our uid and a pseudo alias") {
  FakePasswd pw;
  pw.add("me", 1000, "/home/me", 1000);
  pw.add("other", 1001, "/home/other", 1001);
  pw.add("alias", 7790, "/var/qmail/alias", 7790);
  GetpwContext c;
  c.single_user = true;
  c.my_uid = 1000;
  c.my_gid = 1000;
  c.alias_home = "/tree/alias";
  auto r = getpw("me-x", pw, c);
  REQUIRE(r.entry);
  CHECK(r.entry->user == "me");
  r = getpw("other", pw, c);
  REQUIRE(r.entry);
  CHECK(r.entry->user == "alias");
  CHECK(r.entry->uid == 1000);
  CHECK(r.entry->home == "/tree/alias");
  CHECK(format_getpw(*r.entry) == "alias\0" "1000\0" "1000\0/tree/alias\0-\0other\0"s);
  // The pseudo-account answers to its name: alias-uucp-joe is alias, ext uucp-joe.
  pw.dirs["/tree/alias"] = {0, 1000};
  r = getpw("alias-uucp-joe", pw, c);
  REQUIRE(r.entry);
  CHECK(r.entry->user == "alias");
  CHECK(r.entry->home == "/tree/alias");
  CHECK(r.entry->ext == "uucp-joe");
}
