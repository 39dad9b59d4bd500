// Unit tests of the checkpassword helpers: the fd-3 block and libcrypt hashes.
#include "pop3/checkpw.h"

#include <algorithm>
#include <ctime>
#include <functional>
#include <unistd.h>

#include <doctest/doctest.h>

#include "reactor/fd.h"

using namespace pop3;
using namespace std::string_literals;

TEST_CASE("checkpw: the fd-3 block") {
  auto in = parse_check_input("joe\0secret\0<1.2@h>\0extra"s);
  REQUIRE(in);
  CHECK(in->user == "joe");
  CHECK(in->pass == "secret");
  CHECK(in->timestamp == "<1.2@h>");
  CHECK_FALSE(parse_check_input("joe\0secret\0<1.2@h>"s));
  CHECK_FALSE(parse_check_input(""));
  CHECK(parse_check_input("\0\0\0"s)->user.empty());
}

TEST_CASE("checkpw: reading fd 3 stops at 512 bytes") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  REQUIRE(reactor::write_all(p[1], "joe\0pw\0<t>\0"s));
  ::close(p[1]);
  auto in = read_check_input(p[0]);
  REQUIRE(in);
  CHECK(in->pass == "pw");
  REQUIRE(::pipe(p) == 0);
  REQUIRE(reactor::write_all(p[1], std::string(600, 'x')));
  ::close(p[1]);
  CHECK_FALSE(read_check_input(p[0]));
}

TEST_CASE("checkpw: hashes") {
  auto h = make_hash("correct horse");
  REQUIRE(h);
  CHECK(h->rfind("$", 0) == 0);
  CHECK(verify_password("correct horse", *h));
  CHECK_FALSE(verify_password("correct horsE", *h));
  CHECK_FALSE(verify_password("", *h));
  CHECK(*make_hash("correct horse") != *h);  // fresh salt
  // sha512-crypt from other tools (openssl passwd -6 -salt saltsalt secret).
  CHECK(verify_password("secret", "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"));
  CHECK_FALSE(verify_password("secret", ""));
  CHECK_FALSE(verify_password("secret", "*"));
  CHECK_FALSE(verify_password("secret", "!$6$saltsalt$x"));
}

namespace {

// CPU seconds `f` takes, the median of three runs.
double cpu_seconds(const std::function<void()>& f) {
  double t[3];
  for (double& x : t) {
    timespec a, b;
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    f();
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    x = double(b.tv_sec - a.tv_sec) + double(b.tv_nsec - a.tv_nsec) / 1e9;
  }
  std::sort(t, t + 3);
  return t[1];
}

}  // namespace

TEST_CASE("checkpw: a refusal costs the hash a wrong password costs") {
  auto h = make_hash("correct horse");
  REQUIRE(h);
  // The same method as the hashes qmail-newvpw writes.
  CHECK(h->rfind(std::string(refusal_method()), 0) == 0);
  double wrong = cpu_seconds([&] { CHECK_FALSE(verify_password("wrong", *h)); });
  double locked = cpu_seconds([&] { CHECK_FALSE(verify_password("wrong", "!" + *h)); });
  double unknown = cpu_seconds([&] {
    auto who = check_system_user("evq-no-such-user-at-all", "wrong");
    CHECK_FALSE(who);
    CHECK_FALSE(who.error().temporary);
  });
  double empty = cpu_seconds([&] { CHECK_FALSE(check_system_user("evq-no-such-user-at-all", "")); });
  // Work, not speed: without the dummy hash these take well under 1% of a hash.
  CHECK(locked > wrong / 3);
  CHECK(unknown > wrong / 3);
  CHECK(empty > wrong / 3);
}

TEST_CASE("checkpw: an account with uid 0 never logs in, before any password check") {
  auto who = pop3::check_system_user("root", "whatever root's password may be");
  REQUIRE_FALSE(who);
  CHECK_FALSE(who.error().temporary);
  CHECK(who.error().text == "root may not log in");
}
