// Unit tests of address text, tcp-environ(5) variables and log fields.
#include "reactor/inet.h"

#include <algorithm>
#include <doctest/doctest.h>

using namespace reactor;

TEST_CASE("inet: addresses print as ucspi-tcp and ucspi-tcp6 print them") {
  auto a = parse_ip("127.0.0.1", 25);
  REQUIRE(a);
  CHECK(format_ip(*a) == "127.0.0.1");
  CHECK(address_port(*a) == 25);
  CHECK_FALSE(is_ipv6(*a));
  auto b = parse_ip("0:0:0:0:0:0:0:1", 0);
  REQUIRE(b);
  CHECK(format_ip(*b) == "::1");
  CHECK(is_ipv6(*b));
  auto m = parse_ip("::ffff:10.1.2.3", 0);  // IPv4-mapped: shown and treated as IPv4
  REQUIRE(m);
  CHECK(format_ip(*m) == "10.1.2.3");
  CHECK_FALSE(is_ipv6(*m));
  CHECK_FALSE(parse_ip("host.example", 0));
  CHECK_FALSE(parse_ip("1.2.3", 0));
}

TEST_CASE("inet: server host arguments") {
  auto any = server_address("0", 25, 0);
  REQUIRE(any);
  CHECK(format_ip(*any) == "0.0.0.0");
  auto any6 = server_address("0", 25, 6);
  REQUIRE(any6);
  CHECK(format_ip(*any6) == "::");
  auto dual = server_address(":0", 25, 0);
  REQUIRE(dual);
  CHECK(any6->family() == AF_INET6);
  auto lit = server_address("::1", 7, 0);
  REQUIRE(lit);
  CHECK(format_ip(*lit) == "::1");
  auto cl = client_addresses("0", 25, 0);
  REQUIRE(cl);
  CHECK(format_ip(cl->front()) == "127.0.0.1");
}

TEST_CASE("inet: ports and numbers") {
  CHECK(*parse_port("25") == 25);
  CHECK(*parse_port("0") == 0);
  CHECK_FALSE(parse_port("70000"));
  CHECK_FALSE(parse_port("no-such-service-here"));
  CHECK(*parse_number("040") == 40);
  CHECK_FALSE(parse_number(""));
  CHECK_FALSE(parse_number("4x"));
  CHECK_FALSE(parse_number("-1"));
}

TEST_CASE("inet: tcp-environ variables, unset when unknown, TCP6 names for IPv6") {
  TcpInfo t;
  t.local_ip = "127.0.0.1";
  t.local_port = "25";
  t.remote_ip = "127.0.0.1";
  t.remote_port = "4000";
  t.local_host = "0";
  std::vector<std::string> base = {"PATH=/bin", "TCPREMOTEHOST=stale", "TCPREMOTEINFO=stale", "TCP6REMOTEIP=::9"};
  auto env = apply_env(base, tcp_env_changes(t));
  std::sort(env.begin(), env.end());
  CHECK(env == std::vector<std::string>{"PATH=/bin", "PROTO=TCP", "TCPLOCALHOST=0", "TCPLOCALIP=127.0.0.1",
                                        "TCPLOCALPORT=25", "TCPREMOTEIP=127.0.0.1", "TCPREMOTEPORT=4000"});
  t.ipv6 = true;
  t.local_ip = t.remote_ip = "::1";
  t.local_host.reset();
  env = apply_env({}, tcp_env_changes(t));
  CHECK(std::find(env.begin(), env.end(), "PROTO=TCP6") != env.end());
  CHECK(std::find(env.begin(), env.end(), "TCPREMOTEIP=::1") != env.end());
  CHECK(std::find(env.begin(), env.end(), "TCP6REMOTEIP=::1") != env.end());
}

TEST_CASE("inet: log fields are made safe like ucspi-tcp's safecats") {
  CHECK(log_safe("a%b:c d\x01\xff") == "a?b?c?d??");
  CHECK(log_safe("::1", true) == "::1");
  std::string longname(150, 'x');
  CHECK(log_safe(longname) == std::string(100, 'x') + "...");
  CHECK(log_safe(std::string(100, 'y')) == std::string(100, 'y'));
}
