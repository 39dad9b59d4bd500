// Unit tests of the passwd(5) reading that qmail-queue uses for its Received line.
#include "queue/home.h"

#include <doctest/doctest.h>

TEST_CASE("passwd_uid: the first well-formed line naming the account") {
  const char* text =
      "root:x:0:0:root:/root:/bin/bash\n"
      "qmaild:x:997:996::/var/qmail:/usr/sbin/nologin\n"
      "broken:x:12a:1::/:/bin/false\n"
      "short:x\n"
      "qmails:x:995:996::/var/qmail:/usr/sbin/nologin\n"
      "qmails:x:1:1::/:/bin/false\n"
      "alias:x:4294967295:1::/:/bin/false\n"
      "last:x:42:1::/:/bin/false";
  CHECK(queue::passwd_uid(text, "root") == 0u);
  CHECK(queue::passwd_uid(text, "qmaild") == 997u);
  CHECK(queue::passwd_uid(text, "qmails") == 995u);
  CHECK(queue::passwd_uid(text, "last") == 42u);
  CHECK_FALSE(queue::passwd_uid(text, "broken"));
  CHECK_FALSE(queue::passwd_uid(text, "short"));
  CHECK_FALSE(queue::passwd_uid(text, "alias"));  // (uid_t)-1 is no uid
  CHECK_FALSE(queue::passwd_uid(text, "qmail"));  // a prefix is not the name
  CHECK_FALSE(queue::passwd_uid(text, "qmaild:x"));
  CHECK_FALSE(queue::passwd_uid("", "root"));
}
