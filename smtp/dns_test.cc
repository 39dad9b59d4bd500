// Unit tests of the resolver's status mapping, answer handling and retry defaults.
#include "smtp/dns.h"

#include <arpa/inet.h>
#include <ares.h>
#include <doctest/doctest.h>

#include "tests/fuzz/dns_packet.h"

namespace {
smtp::MxAnswer mx_of(const std::string& pkt, int status = ARES_SUCCESS) {
  return smtp::mx_answer(status, reinterpret_cast<const unsigned char*>(pkt.data()), static_cast<int>(pkt.size()));
}
smtp::AAnswer a_of(int family, const std::string& pkt, int status = ARES_SUCCESS) {
  return smtp::address_answer(family, status, reinterpret_cast<const unsigned char*>(pkt.data()),
                              static_cast<int>(pkt.size()));
}
}  // namespace

TEST_CASE("dns: MX answers as c-ares hands them over") {
  using namespace dnspkt;
  std::string q = name("example.org");
  std::string pkt = header(kMx, q, 2) + record(pointer(12), kMx, mx_data(10, name("mx1.example.org"))) +
                    record(pointer(12), kMx, mx_data(20, name("mx2.example.org")));
  auto ans = mx_of(pkt);
  CHECK(ans.status == smtp::DnsStatus::ok);
  REQUIRE(ans.mx.size() == 2);
  CHECK(ans.mx[0].name == "mx1.example.org");
  CHECK(ans.mx[0].pref == 10);
  CHECK(ans.mx[1].name == "mx2.example.org");
  // No MX record in the answer: no data, so the domain's own address is used.
  CHECK(mx_of(header(kMx, q, 0)).status == smtp::DnsStatus::nodata);
  // NXDOMAIN comes as the callback's status, the packet is not read.
  CHECK(mx_of(pkt, ARES_ENOTFOUND).status == smtp::DnsStatus::nxdomain);
  CHECK(mx_of(pkt, ARES_ENOTFOUND).mx.empty());
  // A packet cut short, or garbage: try later, with nothing half-read.
  auto cut = mx_of(pkt.substr(0, pkt.size() - 5));
  CHECK(cut.status == smtp::DnsStatus::temporary);
  CHECK(cut.mx.empty());
  CHECK(mx_of("\x12\x34").status == smtp::DnsStatus::temporary);
  CHECK(smtp::mx_answer(ARES_SUCCESS, nullptr, 0).status == smtp::DnsStatus::temporary);
  // An exchanger whose name holds a control character or a blank is never
  // taken: it would reach qmail-remote's log and its commands.
  for (std::string bad : {std::string("mx\r\nRSET.example.org"), std::string("m x.example.org")}) {
    auto b = mx_of(header(kMx, q, 1) + record(pointer(12), kMx, mx_data(10, name(bad))));
    CHECK(b.status == smtp::DnsStatus::temporary);
    CHECK(b.mx.empty());
  }
}

TEST_CASE("dns: A and AAAA answers as c-ares hands them over") {
  using namespace dnspkt;
  std::string q = name("mx.example.org");
  std::string a = header(kA, q, 2) + record(pointer(12), kA, std::string("\xc0\x00\x02\x07", 4)) +
                  record(pointer(12), kA, std::string("\x7f\x00\x00\x01", 4));
  auto ans = a_of(AF_INET, a);
  CHECK(ans.status == smtp::DnsStatus::ok);
  CHECK(ans.ips == std::vector<std::string>{"192.0.2.7", "127.0.0.1"});
  std::string six(16, '\0');
  six[15] = 1;
  auto v6 = a_of(AF_INET6, header(kAaaa, q, 1) + record(pointer(12), kAaaa, six));
  CHECK(v6.status == smtp::DnsStatus::ok);
  CHECK(v6.ips == std::vector<std::string>{"::1"});
  // An A record of the wrong length is a broken answer.
  auto bad = a_of(AF_INET, header(kA, q, 1) + record(pointer(12), kA, "\x01\x02"));
  CHECK(bad.status != smtp::DnsStatus::ok);
  CHECK(bad.ips.empty());
  CHECK(a_of(AF_INET, header(kA, q, 0)).status == smtp::DnsStatus::nodata);
  CHECK(a_of(AF_INET, a, ARES_ESERVFAIL).status == smtp::DnsStatus::temporary);
}

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
