// Unit tests of the queue layout and the home directory rules.
#include "queue/layout.h"

#include <cstdlib>
#include <doctest/doctest.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/home.h"

using namespace queue;

TEST_CASE("split and flat queue paths") {
  CHECK(msg_path(Dir::mess, 26902) == "mess/15/26902");
  CHECK(msg_path(Dir::info, 26902) == "info/15/26902");
  CHECK(msg_path(Dir::todo, 26902) == "todo/26902");
  CHECK(msg_path(Dir::bounce, 46) == "bounce/46");
  CHECK(split_name(46) == "0/46");
  CHECK(msg_path(Dir::local, 7, 5) == "local/2/7");
  MsgId n = 0;
  CHECK(parse_msgid("26902", n));
  CHECK(n == 26902);
  CHECK_FALSE(parse_msgid("269x", n));
  CHECK_FALSE(parse_msgid("", n));
  CHECK_FALSE(parse_msgid("12345678901234567890123", n));
  size_t count = 0;
  const DirSpec* specs = dir_specs(count);
  CHECK(count == 9);
  CHECK(specs[0].mode == 0700);
}

TEST_CASE("QMAILHOME from the environment only without privilege") {
  ::setenv("QMAILHOME", "/tmp/evq-home-test", 1);
  CHECK(qmail_home() == "/tmp/evq-home-test");
  CHECK(home_path("control/me") == "/tmp/evq-home-test/control/me");
  ::setenv("QMAILHOME", "relative/path", 1);
  CHECK(qmail_home() == compiled_home());
  ::unsetenv("QMAILHOME");
  CHECK(qmail_home() == compiled_home());
}

TEST_CASE("single-user mode is decided by who owns the tree") {
  char tmpl[] = "/tmp/evq-mode-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string home = tmpl, queue_dir = home + "/queue";
  // No queue yet: not a tree anyone owns, so a system tree.
  CHECK_FALSE(decide_tree_mode(home).single);
  REQUIRE(::mkdir(queue_dir.c_str(), 0750) == 0);
  TreeMode m = decide_tree_mode(home);
  if (::getuid() != 0) {
    // Made by an unprivileged user: that user's private tree.
    CHECK(m.single);
    CHECK(m.uid == ::getuid());
  } else {
    // Made by root: a system tree, though root is asking.
    CHECK_FALSE(m.single);
    // Both owned by one other user: that user's tree, for root as well.
    REQUIRE(::chown(home.c_str(), 65534, 65534) == 0);
    REQUIRE(::chown(queue_dir.c_str(), 65534, 65534) == 0);
    m = decide_tree_mode(home);
    CHECK(m.single);
    CHECK(m.uid == 65534);
    // A home some user owns over a queue of qmail's (an administrator's
    // chown of /var/qmail) stays a system tree.
    REQUIRE(::chown(queue_dir.c_str(), 0, 0) == 0);
    CHECK_FALSE(decide_tree_mode(home).single);
  }
  ::rmdir(queue_dir.c_str());
  ::rmdir(home.c_str());
}
