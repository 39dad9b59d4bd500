// Unit tests of reactor::Stream over socketpairs with a real libev loop.
#include "reactor/stream.h"

#include <csignal>
#include <doctest/doctest.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

using namespace reactor;

namespace {

struct Pair {
  int a = -1, b = -1;
  Pair() {
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    a = sv[0];
    b = sv[1];
  }
  ~Pair() {
    if (b >= 0) ::close(b);
  }
};

// Runs the loop until `done()` or a wall-clock deadline; true if done.
template <typename F>
bool run_until(Loop& loop, F done, double seconds = 5) {
  loop.update_now();
  double deadline = loop.now() + seconds;
  Timer guard(loop, [] {});
  guard.start(seconds);
  while (!done()) {
    loop.update_now();
    if (loop.now() > deadline) return false;
    loop.run_once(true);
  }
  return true;
}

}  // namespace

TEST_CASE("stream delivers lines and reports CRLF") {
  signal(SIGPIPE, SIG_IGN);
  Loop loop;
  Pair p;
  Stream s(loop, p.a, p.a);
  std::vector<std::string> lines;
  std::vector<bool> ends;
  bool eof = false;
  s.on_line = [&](std::string_view l, bool crlf) {
    lines.emplace_back(l);
    ends.push_back(crlf);
  };
  s.on_eof = [&] { eof = true; };
  s.start();
  const char msg[] = "HELO x\r\nNOOP\npart";
  REQUIRE(::write(p.b, msg, sizeof msg - 1) == sizeof msg - 1);
  ::shutdown(p.b, SHUT_WR);
  REQUIRE(run_until(loop, [&] { return eof; }));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "HELO x");
  CHECK(ends[0]);
  CHECK(lines[1] == "NOOP");
  CHECK_FALSE(ends[1]);
  CHECK(s.input().view() == "part");
}

TEST_CASE("stream writes replies and closes after flush") {
  Loop loop;
  Pair p;
  Stream s(loop, p.a, p.a);
  s.on_line = [&](std::string_view l, bool) {
    s.write("echo " + std::string(l) + "\r\n");
    if (l == "QUIT") s.close_after_flush();
  };
  s.start();
  REQUIRE(::write(p.b, "a\nQUIT\nignored\n", 15) == 15);
  REQUIRE(run_until(loop, [&] { return s.closed(); }));
  std::string got;
  char buf[256];
  ssize_t n;
  while ((n = ::read(p.b, buf, sizeof buf)) > 0) got.append(buf, n);
  CHECK(got == "echo a\r\necho QUIT\r\n");
}

TEST_CASE("stream reports a too long line") {
  Loop loop;
  Pair p;
  StreamOptions o;
  o.max_line = 8;
  Stream s(loop, p.a, p.a, o);
  StreamError err{};
  bool failed = false;
  s.on_line = [](std::string_view, bool) {};
  s.on_error = [&](StreamError e, int) {
    err = e;
    failed = true;
  };
  s.start();
  std::string big(100, 'x');
  REQUIRE(::write(p.b, big.data(), big.size()) == (ssize_t)big.size());
  REQUIRE(run_until(loop, [&] { return failed; }));
  CHECK(err == StreamError::line_too_long);
  CHECK(s.closed());
}

TEST_CASE("stream idle timeout fires after inactivity only") {
  Loop loop;
  Pair p;
  StreamOptions o;
  o.idle_timeout = 0.2;
  Stream s(loop, p.a, p.a, o);
  StreamError err{};
  bool failed = false;
  int count = 0;
  s.on_line = [&](std::string_view, bool) { ++count; };
  s.on_error = [&](StreamError e, int) {
    err = e;
    failed = true;
  };
  s.start();
  loop.update_now();
  double t0 = loop.now();
  // Activity every 0.1 s keeps it alive for a while.
  Timer feeder(loop, [&] { (void)!::write(p.b, "x\n", 2); });
  feeder.start(0.1, 0.1);
  REQUIRE(run_until(loop, [&] { return count >= 4; }));
  CHECK_FALSE(failed);
  feeder.stop();
  REQUIRE(run_until(loop, [&] { return failed; }));
  CHECK(err == StreamError::idle_timeout);
  loop.update_now();
  CHECK(loop.now() - t0 >= 0.5);
}

TEST_CASE("stream lifetime deadline fires despite activity") {
  Loop loop;
  Pair p;
  StreamOptions o;
  o.idle_timeout = 5;
  o.lifetime = 0.3;
  Stream s(loop, p.a, p.a, o);
  StreamError err{};
  bool failed = false;
  s.on_line = [](std::string_view, bool) {};
  s.on_error = [&](StreamError e, int) {
    err = e;
    failed = true;
  };
  s.start();
  Timer feeder(loop, [&] { (void)!::write(p.b, "x\n", 2); });
  feeder.start(0.05, 0.05);
  REQUIRE(run_until(loop, [&] { return failed; }));
  CHECK(err == StreamError::lifetime);
}

TEST_CASE("stream queues output on EAGAIN and drains it") {
  signal(SIGPIPE, SIG_IGN);
  Loop loop;
  Pair p;
  StreamOptions o;
  o.max_out = 8u << 20;
  Stream s(loop, p.a, p.a, o);
  bool drained = false;
  s.on_drain = [&] { drained = true; };
  s.start();
  std::string big(4u << 20, 'z');
  REQUIRE(s.write(big));
  CHECK(s.pending_output() > 0);  // a socketpair holds far less than 4 MB
  size_t got = 0;
  char buf[65536];
  Io reader(loop, [&](int) {
    ssize_t n = ::read(p.b, buf, sizeof buf);
    if (n > 0) got += n;
  });
  reader.start(p.b, EV_READ);
  REQUIRE(run_until(loop, [&] { return drained && got == big.size(); }, 10));
  CHECK(s.pending_output() == 0);
}

TEST_CASE("stream output cap fails instead of growing") {
  Loop loop;
  Pair p;
  StreamOptions o;
  o.max_out = 1024;
  Stream s(loop, p.a, p.a, o);
  StreamError err{};
  s.on_error = [&](StreamError e, int) { err = e; };
  s.start();
  std::string big(1u << 20, 'z');
  CHECK_FALSE(s.write(big));
  CHECK(err == StreamError::output_full);
  CHECK(s.closed());
  CHECK_FALSE(s.write("more"));
}

TEST_CASE("stream data mode, pause and resume") {
  Loop loop;
  Pair p;
  StreamOptions o;
  o.lines = true;
  Stream s(loop, p.a, p.a, o);
  std::vector<std::string> lines;
  std::string data;
  s.on_line = [&](std::string_view l, bool) {
    lines.emplace_back(l);
    if (l == "DATA") s.set_line_mode(false);
    if (l == "PAUSE") s.pause_reading();
  };
  s.on_data = [&](Buffer& in) {
    data += in.view();
    in.clear();
  };
  s.start();
  REQUIRE(::write(p.b, "PAUSE\nA\nDATA\nbody", 17) == 17);
  REQUIRE(run_until(loop, [&] { return lines.size() == 1; }));
  loop.run_once(false);
  CHECK(lines.size() == 1);  // paused: A waits in the buffer
  s.resume_reading();
  REQUIRE(run_until(loop, [&] { return data == "body"; }));
  CHECK(lines == std::vector<std::string>{"PAUSE", "A", "DATA"});
}

TEST_CASE("stream over a pipe pair (ucspi style fds)") {
  Loop loop;
  int in[2], out[2];
  REQUIRE(pipe(in) == 0);
  REQUIRE(pipe(out) == 0);
  Stream s(loop, in[0], out[1]);
  bool eof = false;
  s.on_line = [&](std::string_view l, bool) { s.write(std::string(l) + "!\n"); };
  s.on_eof = [&] { eof = true; s.close(); };
  s.start();
  REQUIRE(::write(in[1], "hi\n", 3) == 3);
  ::close(in[1]);
  REQUIRE(run_until(loop, [&] { return eof; }));
  char buf[16];
  ssize_t n = ::read(out[0], buf, sizeof buf);
  CHECK(std::string(buf, n > 0 ? n : 0) == "hi!\n");
  ::close(out[0]);
}
