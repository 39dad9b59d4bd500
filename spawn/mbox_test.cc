// Unit tests of mbox quoting and delivery.
#include "spawn/mbox.h"

#include <cstdlib>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "reactor/fd.h"

using namespace spawn;

TEST_CASE("mbox: From quoting") {
  CHECK(mbox_needs_quote("From x\n"));
  CHECK(mbox_needs_quote(">>From x\n"));
  CHECK(mbox_needs_quote("From "));
  CHECK(!mbox_needs_quote("From"));
  CHECK(!mbox_needs_quote("from x\n"));
  CHECK(!mbox_needs_quote(" From x\n"));
  CHECK(!mbox_needs_quote("From:x\n"));
  CHECK(mbox_quote("a\nFrom b\n>From c\nd") == "a\n>From b\n>>From c\nd\n\n");
  CHECK(mbox_quote("") == "\n");
  CHECK(mbox_quote("x\n") == "x\n\n");
}

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/evq-mbox-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { (void)!std::system(("rm -rf " + path).c_str()); }
};

}  // namespace

TEST_CASE("mbox: deliver appends with head, quoting and blank line") {
  TempDir d;
  std::string box = d.path + "/Mailbox";
  REQUIRE(reactor::write_file_atomic(d.path + "/m", "Subject: s\n\nFrom here\nend", 0600).ok());
  reactor::UniqueFd m(::open((d.path + "/m").c_str(), O_RDONLY));
  REQUIRE(mbox_deliver(box, "From a@b Thu Jan 01 00:00:00 1970\n", m.get()).ok());
  ::lseek(m.get(), 0, SEEK_SET);
  REQUIRE(mbox_deliver(box, "H\n", m.get()).ok());
  auto t = reactor::read_file(box);
  REQUIRE(t.ok());
  CHECK(*t == "From a@b Thu Jan 01 00:00:00 1970\nSubject: s\n\n>From here\nend\n\n"
              "H\nSubject: s\n\n>From here\nend\n\n");
}

TEST_CASE("mbox: a held lock times out with qmail's text, open errors are temporary") {
  TempDir d;
  std::string box = d.path + "/Mailbox";
  reactor::UniqueFd holder(::open(box.c_str(), O_WRONLY | O_CREAT, 0600));
  REQUIRE(::flock(holder.get(), LOCK_EX) == 0);
  auto r = mbox_deliver(box, "x\n", -1, 0);
  REQUIRE(!r.ok());
  CHECK(r.error().temporary);
  CHECK(r.error().text == "File has been locked for 30 seconds straight. (#4.3.0)");
  r = mbox_deliver(d.path + "/no/such/Mailbox", "x\n", -1);
  REQUIRE(!r.ok());
  CHECK(r.error().temporary);
  CHECK(r.error().text.starts_with("Unable to open " + d.path + "/no/such/Mailbox: "));
  CHECK(r.error().text.ends_with(". (#4.2.1)"));
}

TEST_CASE("mbox: read error truncates back") {
  TempDir d;
  std::string box = d.path + "/Mailbox";
  REQUIRE(reactor::write_file_atomic(box, "old\n", 0600).ok());
  int wfd = ::open(d.path.c_str(), O_RDONLY | O_DIRECTORY);  // read() on a directory fails
  auto r = mbox_deliver(box, "From x\n", wfd);
  ::close(wfd);
  REQUIRE(!r.ok());
  CHECK(r.error().text.starts_with("Unable to read message: "));
  CHECK(*reactor::read_file(box) == "old\n");
}
