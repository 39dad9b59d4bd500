// Unit tests of the queue layout and the home directory rules.
#include "queue/layout.h"

#include <cstdlib>
#include <doctest/doctest.h>

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
  CHECK(qmail_home() == QMAILHOME_DEFAULT);
  ::unsetenv("QMAILHOME");
  CHECK(qmail_home() == QMAILHOME_DEFAULT);
}
