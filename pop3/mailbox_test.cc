// Unit tests of qmail-pop3d's Maildir scan and tmp/ cleaning.
#include "pop3/mailbox.h"

#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "reactor/fd.h"

using namespace pop3;

namespace {

struct TempMaildir {
  std::string d;
  TempMaildir() {
    char t[] = "/tmp/pop3mdXXXXXX";
    d = ::mkdtemp(t);
    for (const char* s : {"/tmp", "/new", "/cur"}) ::mkdir((d + s).c_str(), 0700);
  }
  ~TempMaildir() { std::system(("rm -rf " + d).c_str()); }
  // A file with the given content and access/modification times.
  void put(const std::string& rel, const std::string& text, time_t mtime, time_t atime = 0) {
    std::string p = d + "/" + rel;
    REQUIRE(reactor::write_file_atomic(p, text));
    struct timeval tv[2] = {{atime ? atime : mtime, 0}, {mtime, 0}};
    REQUIRE(::utimes(p.c_str(), tv) == 0);
  }
};

}  // namespace

TEST_CASE("mailbox: scan orders by mtime and skips the current second") {
  TempMaildir m;
  time_t now = 1700000000;
  m.put("new/b", "bb", now - 10);
  m.put("cur/a:2,S", "a", now - 20);
  m.put("new/c", "ccc", now);       // delivered during this second: next session
  m.put("new/.hidden", "x", now - 30);
  auto r = scan_maildir(m.d, now);
  REQUIRE(r);
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].path == "cur/a:2,S");
  CHECK((*r)[0].size == 1);
  CHECK((*r)[1].path == "new/b");
  CHECK((*r)[1].size == 2);
  CHECK_FALSE(scan_maildir(m.d + "/nonexistent", now));
}

TEST_CASE("mailbox: tmp/ files older than 36 hours (by atime) are removed") {
  TempMaildir m;
  time_t now = 1700000000;
  m.put("tmp/old", "x", now, now - kTmpMaxAge - 1);
  m.put("tmp/edge", "x", now - kTmpMaxAge - 100, now - kTmpMaxAge);
  m.put("tmp/young", "x", now, now - 3600);
  CHECK(clean_tmp(m.d, now) == 1);
  CHECK_FALSE(reactor::exists(m.d + "/tmp/old"));
  CHECK(reactor::exists(m.d + "/tmp/edge"));
  CHECK(reactor::exists(m.d + "/tmp/young"));
}

TEST_CASE("mailbox: real file operations") {
  TempMaildir m;
  m.put("new/x", "x", 1);
  char old[4096];
  REQUIRE(::getcwd(old, sizeof old));
  REQUIRE(::chdir(m.d.c_str()) == 0);
  RealFileOps ops;
  CHECK(ops.rename("new/x", "cur/x:2,"));
  CHECK(reactor::exists(m.d + "/cur/x:2,"));
  CHECK(ops.unlink("cur/x:2,"));
  CHECK_FALSE(ops.unlink("cur/x:2,"));
  REQUIRE(::chdir(old) == 0);
}
