// Unit tests of qmail-clean's requests, pid/ sweep and request framing.
#include "queue/clean.h"

#include <cstdlib>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "reactor/fd.h"

using namespace queue;
using namespace std::string_literals;

namespace {
struct CleanDir {
  std::string path;
  int fd = -1;
  CleanDir() {
    char tmpl[] = "/tmp/evq-clean-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    path = tmpl;
    for (const char* d : {"pid", "mess", "mess/7", "intd", "todo"})
      REQUIRE(::mkdir((path + "/" + d).c_str(), 0700) == 0);
    fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
    REQUIRE(fd >= 0);
  }
  ~CleanDir() {
    ::close(fd);
    std::string cmd = "rm -rf '" + path + "'";
    CHECK(std::system(cmd.c_str()) == 0);
  }
  void touch(const std::string& rel) { REQUIRE(reactor::write_file_atomic(path + "/" + rel, "x")); }
  bool has(const std::string& rel) { return reactor::exists(path + "/" + rel); }
};
}  // namespace

TEST_CASE("qmail-clean: todo/N removes intd/N and todo/N") {
  CleanDir d;
  d.touch("intd/30");
  d.touch("todo/30");
  d.touch("mess/7/30");
  Cleaner c(d.fd);
  CHECK(c.handle("todo/30") == '+');
  CHECK_FALSE(d.has("intd/30"));
  CHECK_FALSE(d.has("todo/30"));
  CHECK(d.has("mess/7/30"));
  CHECK(c.handle("todo/30") == '+');  // already gone is fine
}

TEST_CASE("qmail-clean: todo/N also removes a big-todo queue's intd/S/N and todo/S/N") {
  CleanDir d;
  for (const char* sub : {"intd/7", "todo/7"}) REQUIRE(::mkdir((d.path + "/" + sub).c_str(), 0700) == 0);
  d.touch("intd/7/30");
  d.touch("todo/7/30");
  Cleaner c(d.fd);
  CHECK(c.handle("todo/30") == '+');
  CHECK_FALSE(d.has("intd/7/30"));
  CHECK_FALSE(d.has("todo/7/30"));
}

TEST_CASE("qmail-clean: foop/N removes intd/N and mess/S/N") {
  CleanDir d;
  d.touch("intd/30");
  d.touch("mess/7/30");
  Cleaner c(d.fd);
  CHECK(c.handle("foop/30") == '+');
  CHECK_FALSE(d.has("intd/30"));
  CHECK_FALSE(d.has("mess/7/30"));
}

TEST_CASE("qmail-clean: malformed requests are answered x, failures !") {
  CleanDir d;
  Cleaner c(d.fd);
  CHECK(c.handle("") == 'x');
  CHECK(c.handle("todo/") == 'x');
  CHECK(c.handle("todo/3x") == 'x');
  CHECK(c.handle("mess/30") == 'x');
  CHECK(c.handle("todo/../x") == 'x');
  CHECK(c.handle("todo/" + std::string(95, '1')) == 'x');
  // A directory where a file should be cannot be unlinked: '!'.
  REQUIRE(::mkdir((d.path + "/mess/7/30").c_str(), 0700) == 0);
  CHECK(c.handle("foop/30") == '!');
}

TEST_CASE("qmail-clean: pid/ files older than 36 hours are swept") {
  CleanDir d;
  d.touch("pid/1.2.1");
  d.touch("pid/3.4.1");
  struct timespec old[2] = {{1000, 0}, {1000, 0}};
  REQUIRE(::utimensat(d.fd, "pid/1.2.1", old, 0) == 0);
  Cleaner c(d.fd);
  CHECK(c.sweep_pid(1000 + kOssified - 1) == 0);
  CHECK(c.sweep_pid(1000 + kOssified) == 1);
  CHECK_FALSE(d.has("pid/1.2.1"));
  CHECK(d.has("pid/3.4.1"));
}

TEST_CASE("qmail-clean: request framing, split reads and over-long requests") {
  CleanRequestReader r;
  std::string req;
  r.feed("todo/1"s);
  CHECK_FALSE(r.next(req));
  r.feed("2\0foop/3\0"s);
  REQUIRE(r.next(req));
  CHECK(req == "todo/12");
  REQUIRE(r.next(req));
  CHECK(req == "foop/3");
  CHECK_FALSE(r.next(req));
  r.feed(std::string(300, '1'));
  CHECK_FALSE(r.next(req));
  r.feed("11\0todo/4\0"s);
  REQUIRE(r.next(req));
  CHECK(req == "");  // the over-long one, answered 'x'
  REQUIRE(r.next(req));
  CHECK(req == "todo/4");
}

TEST_CASE("qmail-clean: serve answers over pipes and exits 0 at EOF") {
  CleanDir d;
  d.touch("intd/5");
  d.touch("todo/5");
  int in[2], out[2];
  REQUIRE(::pipe(in) == 0);
  REQUIRE(::pipe(out) == 0);
  REQUIRE(reactor::write_all(in[1], "todo/5\0bogus\0"s));
  ::close(in[1]);
  Cleaner c(d.fd);
  CHECK(serve_clean(in[0], out[1], c) == 0);
  ::close(out[1]);
  std::string answers;
  REQUIRE(reactor::read_all(out[0], answers));
  CHECK(answers == "+x");
  CHECK_FALSE(d.has("todo/5"));
  ::close(in[0]);
  ::close(out[0]);
}

TEST_CASE("qmail-clean: pipelined requests are answered in the order they came") {
  CleanDir d;
  std::string reqs, want;
  for (int i = 1; i <= 300; ++i) {
    d.touch("intd/" + std::to_string(i));
    d.touch("todo/" + std::to_string(i));
    reqs += "todo/" + std::to_string(i) + '\0';
    want += '+';
    if (i % 7 == 0) {
      reqs += "nonsense"s + '\0';
      want += 'x';
    }
  }
  int in[2], out[2];
  REQUIRE(::pipe(in) == 0);
  REQUIRE(::pipe(out) == 0);
  std::thread writer([&] {
    reactor::write_all(in[1], reqs);
    ::close(in[1]);
  });
  std::string answers;
  std::thread reader([&] { reactor::read_all(out[0], answers); });
  Cleaner c(d.fd);
  CHECK(serve_clean(in[0], out[1], c) == 0);
  ::close(out[1]);
  writer.join();
  reader.join();
  CHECK(answers == want);
  for (int i = 1; i <= 300; ++i) CHECK_FALSE(d.has("todo/" + std::to_string(i)));
  ::close(in[0]);
  ::close(out[0]);
}
