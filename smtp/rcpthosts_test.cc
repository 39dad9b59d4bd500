// Unit tests of rcpthosts / morercpthosts.cdb matching.
#include "smtp/rcpthosts.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

namespace {
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/evq-rcpthosts-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  void put(const std::string& name, const std::string& text) { std::ofstream(path + "/" + name) << text; }
};
}  // namespace

TEST_CASE("rcpthosts: exact and leading-dot entries, case-insensitive") {
  smtp::RcptHosts rh;
  REQUIRE(rh.set({"Example.COM", ".example.net"}));
  CHECK(rh.allowed("u@example.com"));
  CHECK(rh.allowed("u@EXAMPLE.com"));
  CHECK_FALSE(rh.allowed("u@sub.example.com"));  // no dot entry for .example.com
  CHECK(rh.allowed("u@sub.example.net"));
  CHECK(rh.allowed("u@a.b.example.net"));
  CHECK_FALSE(rh.allowed("u@example.net"));       // ".example.net" does not match itself
  CHECK_FALSE(rh.allowed("u@notexample.com"));
  CHECK_FALSE(rh.allowed("u@example.com.evil"));
  CHECK(rh.allowed("joe"));                       // no @: qmail-send appends envnoathost
  CHECK(rh.allowed(""));
  CHECK_FALSE(rh.allowed("u@"));
  CHECK(rh.allowed("u@evil.example@example.com"));  // the domain is after the last @
  CHECK_FALSE(rh.allowed("u@example.com@evil.example"));
  CHECK_FALSE(rh.allowed("u%evil.example@"));
}

TEST_CASE("rcpthosts: no file means every domain; morercpthosts.cdb") {
  TempDir d;
  smtp::RcptHosts rh;
  REQUIRE(rh.load(d.path));
  CHECK_FALSE(rh.have_file());
  CHECK(rh.allowed("u@anything.example"));
  d.put("rcpthosts", "# comment\nexample.com\n\n");
  {
    reactor::CdbWriter w;
    REQUIRE(w.create(d.path + "/morercpthosts.cdb"));
    REQUIRE(w.add("more.example", ""));
    REQUIRE(w.add(".sub.example", ""));
    REQUIRE(w.commit());
  }
  REQUIRE(rh.load(d.path));
  CHECK(rh.have_file());
  CHECK(rh.allowed("u@example.com"));
  CHECK(rh.allowed("u@MORE.example"));
  CHECK(rh.allowed("u@x.sub.example"));
  CHECK_FALSE(rh.allowed("u@sub.example"));
  CHECK_FALSE(rh.allowed("u@other.example"));
  // morercpthosts.cdb alone, without rcpthosts, is ignored (as qmail).
  std::filesystem::remove(d.path + "/rcpthosts");
  REQUIRE(rh.load(d.path));
  CHECK(rh.allowed("u@other.example"));
}
