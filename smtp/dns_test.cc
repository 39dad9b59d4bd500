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
