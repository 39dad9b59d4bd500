// Unit tests of the virtual POP user database (users/vpasswd -> vpasswd.cdb).
#include "pop3/vpw.h"

#include <cstdlib>
#include <unistd.h>

#include <doctest/doctest.h>

#include "reactor/fd.h"

using namespace pop3;

TEST_CASE("vpw: login names") {
  CHECK(vpw_key("Joe@Example.COM") == "joe@example.com");
  CHECK(vpw_key("joe%example.com") == "joe@example.com");
  CHECK(vpw_key("a%b@example.com") == "a%b@example.com");
  CHECK(vpw_key("joe") == "joe");
}

TEST_CASE("vpw: parsing the text file") {
  auto r = parse_vpasswd("# boxes\n\nJoe@Example.com:$6$s$h:510:51:/home/popmail/e/ex1/POP/ex1-0001\n"
                         "ann@example.com:$y$x:510:51:/a:b\n");
  REQUIRE(r);
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].first == "joe@example.com");
  CHECK((*r)[0].second.hash == "$6$s$h");
  CHECK((*r)[0].second.uid == 510);
  CHECK((*r)[0].second.gid == 51);
  CHECK((*r)[0].second.dir == "/home/popmail/e/ex1/POP/ex1-0001");
  CHECK((*r)[1].second.dir == "/a:b");
}

TEST_CASE("vpw: malformed lines are named") {
  auto e = [](const char* text) {
    auto r = parse_vpasswd(text);
    REQUIRE_FALSE(r);
    CHECK_FALSE(r.error().temporary);
    return r.error().text;
  };
  CHECK(e("a@b:h:1:1:/d\nbroken line\n") == "line 2: expected user@domain:hash:uid:gid:dir");
  CHECK(e("a@b:h:x:1:/d\n") == "line 1: bad uid 'x'");
  CHECK(e("a@b:h:1:99999999999:/d\n") == "line 1: bad gid '99999999999'");
  CHECK(e("a@b:h:0:1:/d\n") == "line 1: uid 0 is not allowed for a POP box");
  CHECK(e("a@b:h:1:1:rel\n") == "line 1: the directory must be an absolute path");
  CHECK(e(":h:1:1:/d\n") == "line 1: empty login name");
  CHECK(e("a@b::1:1:/d\n") == "line 1: empty password hash");
  CHECK(e("a@b:h:1:1:/d\nA@B:h:1:1:/e\n") == "line 2: duplicate login name 'a@b'");
}

TEST_CASE("vpw: value codec") {
  VpwEntry v{"$y$abc", 510, 51, "/home/x"};
  auto d = decode_vpw(encode_vpw(v));
  REQUIRE(d);
  CHECK(d->hash == v.hash);
  CHECK(d->uid == 510);
  CHECK(d->gid == 51);
  CHECK(d->dir == "/home/x");
  CHECK_FALSE(decode_vpw("h"));
  CHECK_FALSE(decode_vpw(std::string("h\0x\0001\0/d", 9)));
}

TEST_CASE("vpw: build and look up a cdb") {
  char dir[] = "/tmp/vpwtestXXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::string d = dir;
  REQUIRE(reactor::write_file_atomic(d + "/vpasswd", "joe@example.com:$6$s$h:510:51:/box/joe\n"));
  REQUIRE(build_vpasswd(d + "/vpasswd", d + "/vpasswd.cdb"));
  auto hit = lookup_vpw(d + "/vpasswd.cdb", "JOE%example.com");
  REQUIRE(hit);
  REQUIRE(*hit);
  CHECK((*hit)->dir == "/box/joe");
  auto miss = lookup_vpw(d + "/vpasswd.cdb", "ann@example.com");
  REQUIRE(miss);
  CHECK_FALSE(*miss);
  // A bad file leaves the old database in place.
  REQUIRE(reactor::write_file_atomic(d + "/vpasswd", "bad\n"));
  auto s = build_vpasswd(d + "/vpasswd", d + "/vpasswd.cdb");
  REQUIRE_FALSE(s);
  CHECK(s.error().text == d + "/vpasswd: line 1: expected user@domain:hash:uid:gid:dir");
  CHECK(*lookup_vpw(d + "/vpasswd.cdb", "joe@example.com"));
  CHECK_FALSE(lookup_vpw(d + "/missing.cdb", "joe@example.com"));
  std::system(("rm -rf " + d).c_str());
}
