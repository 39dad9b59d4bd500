// Unit tests of reactor::spawn_child and wait_child.
#include "reactor/child.h"

#include <csignal>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include "reactor/fd.h"

using namespace reactor;

TEST_CASE("spawn_child runs a program with an fd map and environment") {
  int out[2];
  REQUIRE(pipe2(out, O_CLOEXEC) == 0);
  ChildSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo \"$GREETING\" $0; exit 7", "arg0"};
  spec.env = std::vector<std::string>{"GREETING=hello", "PATH=/usr/bin:/bin"};
  spec.fds = {{1, out[1]}};
  auto pid = spawn_child(spec);
  REQUIRE(pid.ok());
  ::close(out[1]);
  std::string text;
  CHECK(read_all(out[0], text));
  ::close(out[0]);
  CHECK(text == "hello arg0\n");
  auto st = wait_child(*pid);
  REQUIRE(st.ok());
  CHECK_FALSE(st->signaled);
  CHECK(st->code == 7);
  CHECK(to_string(*st) == "exit 7");
}

TEST_CASE("spawn_child swaps fds without clobbering") {
  int a[2], b[2];
  REQUIRE(pipe2(a, O_CLOEXEC) == 0);
  REQUIRE(pipe2(b, O_CLOEXEC) == 0);
  ChildSpec spec;
  // The child's stdout goes to pipe b, its stderr to pipe a.
  spec.argv = {"sh", "-c", "echo out; echo err >&2"};
  spec.fds = {{1, b[1]}, {2, a[1]}};
  auto pid = spawn_child(spec);
  REQUIRE(pid.ok());
  ::close(a[1]);
  ::close(b[1]);
  std::string ta, tb;
  CHECK(read_all(a[0], ta));
  CHECK(read_all(b[0], tb));
  ::close(a[0]);
  ::close(b[0]);
  CHECK(ta == "err\n");
  CHECK(tb == "out\n");
  CHECK(wait_child(*pid)->success());
}

TEST_CASE("spawn_child reports exec failure and signals are decoded") {
  ChildSpec spec;
  spec.argv = {"/nonexistent/program"};
  auto r = spawn_child(spec);
  REQUIRE_FALSE(r.ok());
  CHECK_FALSE(r.error().temporary);
  CHECK(r.error().text.find("unable to run /nonexistent/program") == 0);

  spec.argv = {"/bin/sh", "-c", "kill -9 $$"};
  auto pid = spawn_child(spec);
  REQUIRE(pid.ok());
  auto st = wait_child(*pid);
  REQUIRE(st.ok());
  CHECK(st->signaled);
  CHECK(st->signal == SIGKILL);
  CHECK(to_string(*st) == "signal 9");
}

TEST_CASE("spawn_child gives the program default signals, nothing blocked or ignored") {
  // As an event loop leaves them: PIPE ignored, TERM and HUP blocked.
  auto old_pipe = ::signal(SIGPIPE, SIG_IGN);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  REQUIRE(sigprocmask(SIG_BLOCK, &block, &old_mask) == 0);
  int out[2];
  REQUIRE(pipe2(out, O_CLOEXEC) == 0);
  ChildSpec spec;
  spec.argv = {"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"};
  spec.fds = {{1, out[1]}};
  auto pid = spawn_child(spec);
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  ::signal(SIGPIPE, old_pipe);
  REQUIRE(pid.ok());
  ::close(out[1]);
  std::string text;
  CHECK(read_all(out[0], text));
  ::close(out[0]);
  CHECK(wait_child(*pid)->success());
  // Only our three signals are checked: the test run may inherit others
  // ignored (a shell's `&` ignores INT and QUIT).
  auto mask = [&](const char* field) {
    size_t at = text.find(field);
    REQUIRE(at != std::string::npos);
    return std::stoull(text.substr(at + 8, 16), nullptr, 16);
  };
  auto bit = [](int sig) { return 1ull << (sig - 1); };
  CHECK((mask("SigBlk:\t") & (bit(SIGTERM) | bit(SIGHUP))) == 0);
  CHECK((mask("SigIgn:\t") & bit(SIGPIPE)) == 0);
}
