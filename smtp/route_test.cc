// Routing decisions: smtproutes forms, MX order, the loop check.
#include "smtp/route.h"

#include <doctest/doctest.h>

using namespace smtp;

TEST_CASE("route: smtproutes exact, dot-suffix, empty key and empty relay") {
  std::vector<std::string> lines = {"second-example.com:mail.second-example.com",
                                    ".second-example.com:mail.second-example.com",
                                    ".af.mil:", "relay.example:10.0.0.1:2525", ":bigbang.af.mil"};
  auto r = find_route(lines, "Second-Example.COM", 25);
  REQUIRE(r);
  CHECK(r->host == "mail.second-example.com");
  CHECK(r->port == 25);
  r = find_route(lines, "a.b.second-example.com", 25);
  REQUIRE(r);
  CHECK(r->host == "mail.second-example.com");
  CHECK_FALSE(find_route(lines, "x.af.mil", 25));  // empty relay: route by MX
  r = find_route(lines, "relay.example", 25);
  REQUIRE(r);
  CHECK(r->host == "10.0.0.1");
  CHECK(r->port == 2525);
  r = find_route(lines, "elsewhere.org", 2600);  // null client catch-all (FAQ 2.2)
  REQUIRE(r);
  CHECK(r->host == "bigbang.af.mil");
  CHECK(r->port == 2600);
  CHECK_FALSE(find_route({}, "elsewhere.org", 25));
}

TEST_CASE("route: IP literals") {
  CHECK(ip_literal("[1.2.3.4]") == std::optional<std::string>("1.2.3.4"));
  CHECK(ip_literal("1.2.3.4") == std::optional<std::string>("1.2.3.4"));
  CHECK_FALSE(ip_literal("example.com"));
  CHECK_FALSE(ip_literal("[1.2.3]"));
  CHECK(ip_literal("[IPv6:2001:DB8::1]") == std::optional<std::string>("2001:db8::1"));
  CHECK(ip_literal("[ipv6:::1]") == std::optional<std::string>("::1"));
  CHECK_FALSE(ip_literal("[IPv6:nonsense]"));
  CHECK_FALSE(ip_literal("[2001:db8::1]"));
}

TEST_CASE("route: MX ordered by preference, equal ones shuffled") {
  bool saw_b_first = false, saw_c_first = false;
  for (unsigned long seed = 0; seed < 50; ++seed) {
    std::vector<Mx> mx = {{"c", 20}, {"a", 5}, {"b", 20}, {"d", 30}};
    order_mx(mx, seed);
    CHECK(mx[0].name == "a");
    CHECK(mx[3].name == "d");
    (mx[1].name == "b" ? saw_b_first : saw_c_first) = true;
  }
  CHECK(saw_b_first);
  CHECK(saw_c_first);
}

namespace {
bool me(const std::string& ip) { return ip == "10.0.0.1"; }
}  // namespace

TEST_CASE("route: an MX that is us drops itself and worse ones") {
  std::vector<Target> all = {{"10.0.0.9", 5}, {"10.0.0.1", 10}, {"10.0.0.8", 10}, {"10.0.0.7", 20}};
  auto t = usable_targets(all, &me, false);
  REQUIRE(t.size() == 1);
  CHECK(t[0].ip == "10.0.0.9");
  // We are the best MX: nothing is left (#5.4.6).
  CHECK(usable_targets({{"10.0.0.1", 0}, {"10.0.0.9", 10}}, &me, false).empty());
  // A relay from smtproutes switches the check off.
  CHECK(usable_targets({{"10.0.0.1", 0}}, &me, true).size() == 1);
  CHECK(ipme("0.0.0.0"));
  CHECK(ipme("127.0.0.1"));
  CHECK_FALSE(ipme("127.0.0.5"));
}

TEST_CASE("route: IPv4 before IPv6 within a preference, order otherwise kept") {
  std::vector<smtp::Target> t{{"2001:db8::1", 10}, {"192.0.2.1", 10}, {"2001:db8::2", 10},
                              {"192.0.2.2", 10},   {"::1", 5},         {"192.0.2.9", 20}};
  smtp::ipv4_first(t);
  std::vector<std::string> ips;
  for (auto& x : t) ips.push_back(x.ip);
  CHECK(ips == std::vector<std::string>{"::1", "192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2", "192.0.2.9"});
}

TEST_CASE("route: this host's addresses include IPv6") {
  CHECK(smtp::ipme("0.0.0.0"));
  CHECK(smtp::ipme("::"));
  CHECK(smtp::ipme("127.0.0.1"));
  CHECK_FALSE(smtp::ipme("2001:db8::77"));
}

TEST_CASE("route: smtproutes credentials (sagredo's relay:port|user|password)") {
  std::vector<std::string> lines = {"auth.example:smart.example:587|joe|se:cr|et", ":catch.example|u|p",
                                    "plain.example:10.0.0.2:2525", "mx.example:|u|p", "nopass.example:r.example|solo"};
  auto r = find_route(lines, "auth.example", 25);
  REQUIRE(r);
  CHECK(r->host == "smart.example");
  CHECK(r->port == 587);
  CHECK(r->auth);
  CHECK(r->user == "joe");
  CHECK(r->password == "se:cr|et");  // ':' and '|' after the user belong to the password
  r = find_route(lines, "other.example", 25);
  REQUIRE(r);
  CHECK(r->host == "catch.example");
  CHECK(r->port == 25);
  CHECK(r->auth);
  CHECK(r->user == "u");
  CHECK(r->password == "p");
  r = find_route(lines, "plain.example", 25);  // the old form means what it meant
  REQUIRE(r);
  CHECK(r->host == "10.0.0.2");
  CHECK(r->port == 2525);
  CHECK_FALSE(r->auth);
  CHECK_FALSE(find_route(lines, "mx.example", 25));  // empty relay: by MX, credentials unused
  r = find_route(lines, "nopass.example", 25);
  REQUIRE(r);
  CHECK(r->host == "r.example");
  CHECK(r->auth);
  CHECK(r->user == "solo");
  CHECK(r->password.empty());
}
