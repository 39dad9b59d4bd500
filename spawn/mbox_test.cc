// Unit tests of mbox quoting and delivery.
#include "spawn/mbox.h"

#include <cstdlib>
#include <random>
#include <sys/wait.h>
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

// The definition, line by line: what any split of the input must give.
std::string quote_by_lines(std::string_view m) {
  std::string out;
  while (!m.empty()) {
    size_t nl = m.find('\n');
    std::string_view line = m.substr(0, nl == std::string_view::npos ? m.size() : nl + 1);
    m.remove_prefix(line.size());
    if (mbox_needs_quote(line)) out += '>';
    out.append(line);
    if (!line.ends_with('\n')) out += '\n';
  }
  return out + "\n";
}

}  // namespace

TEST_CASE("mbox: quoting streams, whatever the split and the line length") {
  std::mt19937 rng(12345);
  const char* pieces[] = {"From ", ">", "From", "F", "x", "\n", "From:", " ", ">>From ", "Fro"};
  for (int round = 0; round < 2000; ++round) {
    std::string m;
    for (int n = int(rng() % 12); n > 0; --n) m += pieces[rng() % std::size(pieces)];
    std::string out;
    MboxQuoter q;
    for (size_t i = 0; i < m.size();) {
      size_t len = 1 + rng() % 4;
      q.feed(std::string_view(m).substr(i, len), out);
      i += len;
    }
    q.finish(out);
    REQUIRE_MESSAGE(out == quote_by_lines(m), m);
  }
  // A line without end: held back are never more than the deciding bytes.
  MboxQuoter q;
  std::string out;
  q.feed(std::string(1 << 20, '>'), out);
  CHECK(out.size() == 1 << 20);
  q.feed("Fro", out);
  CHECK(out.size() == 1 << 20);
  q.feed("m x", out);
  CHECK(out.size() == (1 << 20) + 7);  // the quoting ">", "From x"
  std::string y(1 << 20, 'y');
  out.clear();
  q.feed(y, out);
  CHECK(out == y);
  out.clear();
  q.finish(out);
  CHECK(out == "\n\n");
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

TEST_CASE("mbox: an fcntl lock of an MUA is waited for as well") {
  TempDir d;
  std::string box = d.path + "/Mailbox";
  int ready[2], release[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(release) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // An MUA that locks with fcntl only (fcntl locks belong to a process).
    ::close(ready[0]);
    ::close(release[1]);
    int fd = ::open(box.c_str(), O_RDWR | O_CREAT, 0600);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fd < 0 || ::fcntl(fd, F_SETLK, &fl) != 0) _exit(1);
    (void)!::write(ready[1], "x", 1);
    char c;
    (void)!::read(release[0], &c, 1);
    _exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  char c;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  auto r = mbox_deliver(box, "x\n", -1, 0);
  REQUIRE(!r.ok());
  CHECK(r.error().text == "File has been locked for 30 seconds straight. (#4.3.0)");
  ::close(release[1]);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(status == 0);
  reactor::UniqueFd empty(::open("/dev/null", O_RDONLY));
  CHECK(mbox_deliver(box, "x\n", empty.get(), 0).ok());
  ::close(ready[0]);
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
