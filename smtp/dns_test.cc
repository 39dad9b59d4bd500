// Unit tests of the resolver's status mapping and retry defaults.
#include "smtp/dns.h"

#include <ares.h>
#include <doctest/doctest.h>

TEST_CASE("dns: c-ares statuses map to qmail's three outcomes") {
  CHECK(smtp::dns_status(ARES_SUCCESS) == smtp::DnsStatus::ok);
  CHECK(smtp::dns_status(ARES_ENOTFOUND) == smtp::DnsStatus::nxdomain);
  CHECK(smtp::dns_status(ARES_ENODATA) == smtp::DnsStatus::nodata);
  CHECK(smtp::dns_status(ARES_ESERVFAIL) == smtp::DnsStatus::temporary);
  CHECK(smtp::dns_status(ARES_EREFUSED) == smtp::DnsStatus::temporary);
  CHECK(smtp::dns_status(ARES_ETIMEOUT) == smtp::DnsStatus::temporary);
}

TEST_CASE("dns: retry settings default to the C library's unless configured") {
  auto d = smtp::resolver_defaults("nameserver 127.0.0.1\nsearch example\n", "");
  CHECK(d.timeout);
  CHECK(d.attempts);
  d = smtp::resolver_defaults("nameserver ::1\n options rotate timeout:1\n", "");
  CHECK_FALSE(d.timeout);
  CHECK(d.attempts);
  d = smtp::resolver_defaults("options\tattempts:5 timeout:2\n", "");
  CHECK_FALSE(d.timeout);
  CHECK_FALSE(d.attempts);
  d = smtp::resolver_defaults("nameserver 1.2.3.4\n", "ndots:2 attempts:3");
  CHECK(d.timeout);
  CHECK_FALSE(d.attempts);
  // Only an `options` line counts; other words are not options.
  d = smtp::resolver_defaults("optionsx timeout:1\n# options timeout:1\nsearch timeout:1\n", "");
  CHECK(d.timeout);
  CHECK(d.attempts);
}

TEST_CASE("dns: A and AAAA answers merge, IPv4 first") {
  using smtp::AAnswer;
  using smtp::DnsStatus;
  auto ans = [](DnsStatus s, std::vector<std::string> ips = {}) {
    AAnswer a;
    a.status = s;
    a.ips = std::move(ips);
    return a;
  };
  auto m = smtp::merge_addresses(ans(DnsStatus::ok, {"192.0.2.1"}), ans(DnsStatus::ok, {"2001:db8::1"}));
  CHECK(m.status == DnsStatus::ok);
  CHECK(m.ips == std::vector<std::string>{"192.0.2.1", "2001:db8::1"});
  // One family is enough, whatever happened to the other query.
  CHECK(smtp::merge_addresses(ans(DnsStatus::nodata), ans(DnsStatus::ok, {"::1"})).ips ==
        std::vector<std::string>{"::1"});
  CHECK(smtp::merge_addresses(ans(DnsStatus::ok, {"192.0.2.1"}), ans(DnsStatus::temporary)).status == DnsStatus::ok);
  // Nothing found.
  CHECK(smtp::merge_addresses(ans(DnsStatus::nxdomain), ans(DnsStatus::nxdomain)).status == DnsStatus::nxdomain);
  CHECK(smtp::merge_addresses(ans(DnsStatus::nodata), ans(DnsStatus::temporary)).status == DnsStatus::temporary);
  CHECK(smtp::merge_addresses(ans(DnsStatus::temporary), ans(DnsStatus::nodata)).status == DnsStatus::temporary);
  CHECK(smtp::merge_addresses(ans(DnsStatus::nodata), ans(DnsStatus::nodata)).status == DnsStatus::nodata);
}
