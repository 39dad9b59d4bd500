// Unit tests of tcpserver's command line, log lines, environment and the
// acceptor's concurrency limit on a real loop with loopback clients.
#include "reactor/acceptor.h"

#include <algorithm>
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace reactor;

TEST_CASE("acceptor: tcpserver's command line") {
  auto o = parse_server_options({"tcpserver", "-vDUHR", "-l0", "-x", "tcp.cdb", "-c", "400", "--", "0", "smtp",
                                 "qmail-smtpd", "-x"},
                                "7770", "2108");
  REQUIRE(o);
  CHECK(o->verbosity == 2);
  CHECK(o->nodelay);
  CHECK_FALSE(o->remote_host);
  CHECK_FALSE(o->remote_info);
  CHECK(o->uid == 7770);
  CHECK(o->gid == 2108);
  CHECK(*o->localname == "0");
  CHECK(o->rules == "tcp.cdb");
  CHECK(o->limit == 400);
  CHECK(o->host == "0");
  CHECK(o->port == "smtp");
  CHECK(o->argv == std::vector<std::string>{"qmail-smtpd", "-x"});  // the program's options stay its own
  auto d = parse_server_options({"tcpserver", "1.2.3.4", "25", "prog"}, nullptr, nullptr);
  REQUIRE(d);
  CHECK(d->limit == 40);
  CHECK(d->backlog == 20);
  CHECK(d->timeout == 26);
  CHECK(d->verbosity == 1);
  CHECK(d->remote_host);
  CHECK_FALSE(d->localname);
  CHECK_FALSE(parse_server_options({"tcpserver", "0", "25"}, nullptr, nullptr));
  CHECK_FALSE(parse_server_options({"tcpserver", "-c", "x", "0", "25", "p"}, nullptr, nullptr));
  CHECK_FALSE(parse_server_options({"tcpserver", "-c", "0", "0", "25", "p"}, nullptr, nullptr));
  CHECK_FALSE(parse_server_options({"tcpserver", "-Z", "0", "25", "p"}, nullptr, nullptr));
}

TEST_CASE("acceptor: -U and -u never leave a server root by accident") {
  auto args = std::vector<std::string>{"tcpserver", "-U", "0", "25", "p"};
  // $UID or $GID missing or not a number: fatal, not "stay root".
  for (auto [u, g] : std::vector<std::pair<const char*, const char*>>{
           {nullptr, "2108"}, {"7770", nullptr}, {nullptr, nullptr}, {"qmaild", "2108"}, {"7770", "12x"}, {"", ""}}) {
    auto o = parse_server_options(args, u, g);
    REQUIRE_FALSE(o);
    CHECK(o.error().text.find("-U needs $UID and $GID") != std::string::npos);
  }
  auto o = parse_server_options({"tcpserver", "-u", "7770", "0", "25", "p"}, nullptr, nullptr);
  REQUIRE_FALSE(o);
  CHECK(o.error().text.find("-u without -g") != std::string::npos);
  o = parse_server_options({"tcpserver", "-u", "7770", "-g", "2108", "0", "25", "p"}, nullptr, nullptr);
  REQUIRE(o);
  CHECK(o->uid == 7770);
  CHECK(o->gid == 2108);
  // -g alone is what it always was: a group, root's uid.
  CHECK(parse_server_options({"tcpserver", "-g", "2108", "0", "25", "p"}, nullptr, nullptr));
}

TEST_CASE("acceptor: ok and deny lines as ucspi-tcp writes them") {
  TcpInfo t;
  t.local_ip = "127.0.0.1";
  t.local_port = "2023";
  t.remote_ip = "127.0.0.1";
  t.remote_port = "43424";
  CHECK(connection_line(false, 9848, t) == "tcpserver: ok 9848 :127.0.0.1:2023 :127.0.0.1::43424\n");
  t.local_host = "mx.example";
  t.remote_host = "evil:host%";
  CHECK(connection_line(true, 7, t) == "tcpserver: deny 7 mx.example:127.0.0.1:2023 evil?host?:127.0.0.1::43424\n");
  t.remote_ip = "::1";
  t.remote_host.reset();
  CHECK(connection_line(false, 7, t) == "tcpserver: ok 7 mx.example:127.0.0.1:2023 :::1::43424\n");
}

TEST_CASE("acceptor: rule variables come after tcp-environ and override") {
  TcpInfo t;
  t.local_ip = t.remote_ip = "127.0.0.1";
  t.local_port = "25";
  t.remote_port = "1";
  auto env = connection_env({"RELAYCLIENT=old", "HOME=/"}, t, {{"RELAYCLIENT", ""}, {"X", "a b"}});
  CHECK(env.back() == "X=a b");
  CHECK(std::count(env.begin(), env.end(), "RELAYCLIENT=") == 1);
  CHECK(std::count(env.begin(), env.end(), "RELAYCLIENT=old") == 0);
  CHECK(std::count(env.begin(), env.end(), "HOME=/") == 1);
}

TEST_CASE("acceptor: -c 1 accepts the second client only after the first child ends") {
  auto o = parse_server_options({"tcpserver", "-q", "-HR", "-c", "1", "-l", "0", "127.0.0.1", "0", "sh", "-c",
                                 "read x; echo got $x"},
                                nullptr, nullptr);
  REQUIRE(o);
  Loop loop;
  Acceptor acc(loop, *o);
  REQUIRE(acc.listen());
  acc.start();
  auto connect_one = [&] {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto a = parse_ip("127.0.0.1", acc.port());
    REQUIRE(::connect(s, a->sa(), a->len) == 0);
    return s;
  };
  // Turns the loop (with a ticking timer, so no turn blocks) until pred() or 10 s pass.
  Timer tick(loop, [] {});
  tick.start(0.01, 0.01);
  auto spin_until = [&](auto pred) {
    for (int i = 0; i < 1000 && !pred(); ++i) loop.run_once();
    return pred();
  };
  int c1 = connect_one();
  int c2 = connect_one();  // completes in the kernel backlog, not accepted yet
  REQUIRE(spin_until([&] { return acc.children() == 1; }));
  int turns = 0;
  spin_until([&] { return ++turns > 5; });  // a few idle turns: c2 must stay unaccepted
  CHECK(acc.children() == 1);
  REQUIRE(write(c2, "two\n", 4) == 4);
  REQUIRE(write(c1, "one\n", 4) == 4);
  auto readable = [](int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
  };
  char buf[64];
  REQUIRE(spin_until([&] { return readable(c1); }));
  ssize_t n = read(c1, buf, sizeof buf);
  REQUIRE(n > 0);
  CHECK(std::string(buf, static_cast<size_t>(n)) == "got one\n");
  // The first child's end lets the acceptor take the second client.
  REQUIRE(spin_until([&] { return readable(c2); }));
  n = read(c2, buf, sizeof buf);
  REQUIRE(n > 0);
  CHECK(std::string(buf, static_cast<size_t>(n)) == "got two\n");
  close(c1);
  close(c2);
  CHECK(spin_until([&] { return acc.children() == 0; }));
}
