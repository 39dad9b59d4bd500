// Unit tests of qmail-queued's loop: concurrent callers share one commit,
// nobody is answered before it, and a failed commit or a caller that leaves
// keeps nothing.
#include "queue/queued.h"

#include <cstdint>
#include <doctest/doctest.h>
#include <functional>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

#include "queue/qq.h"
#include "queue/queue_dir_test_util.h"

using namespace queue;
using namespace std::string_literals;

namespace {

// Holds each batch until the test finishes it.
struct HeldSyncer : Syncer {
  struct Batch {
    std::vector<int> fds;
    std::function<void(bool)> done;
  };
  std::vector<Batch> batches;
  void sync(std::vector<int> fds, std::function<void(bool)> done) override {
    batches.push_back({std::move(fds), std::move(done)});
  }
  void finish(size_t i, bool ok) {
    auto done = std::move(batches.at(i).done);
    done(ok);
  }
};

struct Fixture {
  QueueDir q;
  reactor::Loop loop;
  HeldSyncer syncer;
  std::string sock = q.path + "/socket";
  reactor::UniqueFd lfd;
  std::unique_ptr<QueueDaemon> daemon;
  bool ready = true;

  Fixture() {
    lfd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    struct sockaddr_un sa = {};
    sa.sun_family = AF_UNIX;
    REQUIRE(sock.size() < sizeof sa.sun_path);
    sock.copy(sa.sun_path, sock.size());
    REQUIRE(::bind(lfd.get(), reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) == 0);
    REQUIRE(::listen(lfd.get(), 16) == 0);
    QueuedConfig cfg;
    cfg.queue_dirfd = q.fd;
    cfg.ready = [this] { return ready; };
    daemon = std::make_unique<QueueDaemon>(loop, syncer, cfg);
    daemon->listen(lfd.get());
  }
  ~Fixture() { daemon.reset(); }
  void spin() {
    for (int i = 0; i < 20; ++i) loop.run_once(false);
  }
  // A connected caller, past the greeting; `greeting` receives it.
  reactor::UniqueFd caller(char* greeting = nullptr) {
    reactor::UniqueFd c(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    struct sockaddr_un sa = {};
    sa.sun_family = AF_UNIX;
    sock.copy(sa.sun_path, sock.size());
    REQUIRE(::connect(c.get(), reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) == 0);
    spin();
    char g = 0;
    REQUIRE(::read(c.get(), &g, 1) == 1);
    if (greeting) *greeting = g;
    return c;
  }
  // Bytes waiting for the caller (non-blocking): "" when none.
  static std::string pending(int fd) {
    char b[16];
    ssize_t r = ::recv(fd, b, sizeof b, MSG_DONTWAIT);
    return r > 0 ? std::string(b, static_cast<size_t>(r)) : std::string();
  }
};

std::string frame(const std::string& body) {
  uint32_t n = static_cast<uint32_t>(body.size());
  std::string h = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                   static_cast<char>(n)};
  return h + body;
}

const std::string kEnd = "\0\0\0\0"s;

}  // namespace

TEST_CASE("qmail-queued: concurrent callers share one commit and hear nothing before it") {
  Fixture f;
  char g;
  auto a = f.caller(&g);
  CHECK(g == 'Y');
  auto b = f.caller();
  REQUIRE(reactor::write_all(a.get(), frame("Subject: a\n\nA\n") + kEnd + "Fx@y\0Tjoe@z\0\0"s));
  f.spin();
  REQUIRE(reactor::write_all(b.get(), frame("Subject: b\n\nB\n") + kEnd + "Fx@y\0Tann@z\0\0"s));
  f.spin();
  // The first message went to the syncer alone; the second waits for the next commit.
  REQUIRE(f.syncer.batches.size() == 1);
  CHECK(f.syncer.batches[0].fds.size() == 2);
  CHECK(f.q.count("todo") == 0);
  CHECK(Fixture::pending(a.get()).empty());
  f.syncer.finish(0, true);
  CHECK(Fixture::pending(a.get()) == "\0"s);
  CHECK(f.q.count("todo") == 1);
  REQUIRE(f.syncer.batches.size() == 2);
  CHECK(Fixture::pending(b.get()).empty());
  f.syncer.finish(1, true);
  CHECK(Fixture::pending(b.get()) == "\0"s);
  CHECK(f.q.count("todo") == 2);
  CHECK(f.q.count("mess") == 2);
  CHECK(f.q.count("pid") == 0);
  CHECK(f.daemon->queued() == 2);
  f.spin();
  CHECK(f.daemon->connections() == 0);
}

TEST_CASE("qmail-queued: messages that arrive during a commit go together in the next") {
  Fixture f;
  auto a = f.caller();
  auto b = f.caller();
  auto c = f.caller();
  REQUIRE(reactor::write_all(a.get(), frame("A\n") + kEnd + "F\0Tj@z\0\0"s));
  f.spin();
  REQUIRE(reactor::write_all(b.get(), frame("B\n") + kEnd + "F\0Tj@z\0\0"s));
  REQUIRE(reactor::write_all(c.get(), frame("C\n") + kEnd + "F\0Tj@z\0\0"s));
  f.spin();
  REQUIRE(f.syncer.batches.size() == 1);
  f.syncer.finish(0, true);
  REQUIRE(f.syncer.batches.size() == 2);
  CHECK(f.syncer.batches[1].fds.size() == 4);
  f.syncer.finish(1, true);
  CHECK(f.q.count("todo") == 3);
}

TEST_CASE("qmail-queued: a failed commit answers 53 and keeps nothing") {
  Fixture f;
  auto a = f.caller();
  REQUIRE(reactor::write_all(a.get(), frame("A\n") + kEnd + "F\0Tj@z\0\0"s));
  f.spin();
  REQUIRE(f.syncer.batches.size() == 1);
  f.syncer.finish(0, false);
  CHECK(Fixture::pending(a.get()) == std::string(1, static_cast<char>(qq_exit::kWrite)));
  CHECK(f.q.count("todo") == 0);
  CHECK(f.q.count("intd") == 0);
  CHECK(f.q.count("mess") == 0);
}

TEST_CASE("qmail-queued: a caller that leaves halfway keeps nothing; errors answer qmail-queue's codes") {
  Fixture f;
  {
    auto a = f.caller();
    REQUIRE(reactor::write_all(a.get(), frame("half a message") + kEnd + "Fx@y\0Tj"s));
    f.spin();
  }
  f.spin();
  CHECK(f.q.count("mess") == 0);
  CHECK(f.q.count("intd") == 0);
  CHECK(f.daemon->connections() == 0);
  auto b = f.caller();
  REQUIRE(reactor::write_all(b.get(), kEnd + "Tj@z\0\0"s));
  f.spin();
  CHECK(Fixture::pending(b.get()) == std::string(1, static_cast<char>(qq_exit::kFormat)));
  auto c = f.caller();
  REQUIRE(reactor::write_all(c.get(), "\x7f\0\0\0xx"s));
  f.spin();
  CHECK(Fixture::pending(c.get()) == std::string(1, static_cast<char>(qq_exit::kRead)));
  CHECK(f.q.count("mess") == 0);
  CHECK(f.syncer.batches.empty());
}

TEST_CASE("qmail-queued: not ready sends callers to qmail-queue and makes no file") {
  Fixture f;
  f.ready = false;
  char g = 0;
  auto a = f.caller(&g);
  CHECK(g == 'N');
  f.spin();
  CHECK(f.q.count("pid") == 0);
  CHECK(f.q.count("mess") == 0);
  CHECK(f.daemon->connections() == 0);
}
