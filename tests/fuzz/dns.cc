// qmail-remote's reading of DNS answers (smtp/dns.h mx_answer and
// address_answer): the c-ares callbacks' work, fed crafted packets.
//
// Input: one byte of choices (bits 0-1: MX, A, AAAA query, or a raw packet;
// bits 2-3: the callback's status; bit 4: break the packet), then either the
// raw answer packet, or the makings of one: a count of answers, and for each
// a byte of kind (record type, owner by pointer or by name, preference) and
// a label of bytes, each up to the next NUL.
// Invariants, beyond "no crash" and no leak (c-ares's results are freed):
//   - a lookup is ok exactly when it carries records, and then an MX names
//     only printable_name() exchangers and an address lookup only addresses
//     of its own family, in their text form;
//   - a status other than success maps as dns_status() says, with no
//     records, whatever the packet;
//   - a well-formed answer of plain names gives back exactly the records
//     built into it, in order.

#include <arpa/inet.h>
#include <ares.h>

#include <string>
#include <vector>

#include "smtp/dns.h"
#include "tests/fuzz/dns_packet.h"
#include "tests/fuzz/fuzz.h"

namespace {

bool plain_label(std::string_view l) {
  if (l.empty() || l.size() > 40) return false;
  for (char c : l)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t choice = in.byte();
  const int statuses[4] = {ARES_SUCCESS, ARES_ENOTFOUND, ARES_ENODATA, ARES_ESERVFAIL};
  const int status = statuses[(choice >> 2) & 3];
  const bool broken = choice & 16;
  int qkind = choice & 3;

  std::string pkt;
  bool predictable = false;
  std::vector<smtp::Mx> want_mx;
  std::vector<std::string> want_ip;
  if (qkind == 3) {
    pkt.assign(in.rest());
    qkind = in.empty() ? 0 : (data[size - 1] % 3);
  } else {
    using namespace dnspkt;
    const uint16_t qtype = qkind == 0 ? kMx : qkind == 1 ? kA : kAaaa;
    const std::string qname = name("example.org");
    unsigned n = in.byte() % 8;
    std::string answers;
    predictable = !broken;
    for (unsigned i = 0; i < n; ++i) {
      uint8_t kind = in.byte();
      std::string_view label = in.until('\0');
      std::string owner = kind & 1 ? pointer(12) : name(std::string(label) + ".example.org");
      if (!(kind & 1)) predictable = false;  // another owner: c-ares decides what counts
      switch ((kind >> 1) & 3) {
        case 0: {
          std::string host = std::string(label) + ".mx.example.org";
          answers += record(owner, kMx, mx_data(kind >> 3, name(host)));
          if (qtype == kMx) {
            if (!plain_label(label)) predictable = false;
            want_mx.push_back({host, static_cast<unsigned>(kind >> 3)});
          } else {
            predictable = false;
          }
          break;
        }
        case 1: {
          std::string four(label.substr(0, 4));
          four.resize(4, '\x01');
          answers += record(owner, kA, four);
          char buf[INET_ADDRSTRLEN];
          if (qtype == kA && ::inet_ntop(AF_INET, four.data(), buf, sizeof buf)) want_ip.push_back(buf);
          if (qtype != kA) predictable = false;
          break;
        }
        case 2: {
          std::string sixteen(label.substr(0, 16));
          sixteen.resize(16, '\x02');
          answers += record(owner, kAaaa, sixteen);
          char buf[INET6_ADDRSTRLEN];
          if (qtype == kAaaa && ::inet_ntop(AF_INET6, sixteen.data(), buf, sizeof buf)) want_ip.push_back(buf);
          if (qtype != kAaaa) predictable = false;
          break;
        }
        default:
          answers += record(owner, kind & 8 ? kCname : static_cast<uint16_t>(kind), label);
          predictable = false;
          break;
      }
    }
    pkt = header(qtype, qname, n) + answers;
    if (broken && !pkt.empty()) {
      // Cut it, or flip a byte, where the rest of the input says.
      uint8_t at = in.byte(), how = in.byte();
      if (how & 1) pkt.resize(at % pkt.size());
      else pkt[at % pkt.size()] ^= static_cast<char>(how | 1);
    }
  }
  const auto* abuf = reinterpret_cast<const unsigned char*>(pkt.data());
  const int alen = static_cast<int>(pkt.size());

  if (qkind == 0) {
    smtp::MxAnswer a = smtp::mx_answer(status, abuf, alen);
    FUZZ_CHECK((a.status == smtp::DnsStatus::ok) == !a.mx.empty(), "ok without records, or records without ok");
    if (status != ARES_SUCCESS) FUZZ_CHECK(a.status == smtp::dns_status(status) && a.mx.empty(), "a failed lookup with a verdict of its own");
    for (const smtp::Mx& m : a.mx) {
      FUZZ_CHECK(smtp::printable_name(m.name), "an exchanger name that is not printable");
      FUZZ_CHECK(m.pref <= 65535, "a preference out of range");
    }
    if (predictable && status == ARES_SUCCESS) {
      FUZZ_CHECK(a.status == (want_mx.empty() ? smtp::DnsStatus::nodata : smtp::DnsStatus::ok), "a plain MX answer misread");
      FUZZ_CHECK(a.mx.size() == want_mx.size(), "MX records lost or added");
      for (size_t i = 0; i < a.mx.size(); ++i)
        FUZZ_CHECK(a.mx[i].name == want_mx[i].name && a.mx[i].pref == want_mx[i].pref, "an MX record changed");
    }
  } else {
    const int family = qkind == 1 ? AF_INET : AF_INET6;
    smtp::AAnswer a = smtp::address_answer(family, status, abuf, alen);
    FUZZ_CHECK((a.status == smtp::DnsStatus::ok) == !a.ips.empty(), "ok without addresses, or addresses without ok");
    if (status != ARES_SUCCESS) FUZZ_CHECK(a.status == smtp::dns_status(status) && a.ips.empty(), "a failed lookup with a verdict of its own");
    for (const std::string& ip : a.ips) {
      unsigned char buf[16];
      FUZZ_CHECK(::inet_pton(family, ip.c_str(), buf) == 1, "an address that is not of its family");
    }
    if (predictable && status == ARES_SUCCESS) {
      FUZZ_CHECK(a.status == (want_ip.empty() ? smtp::DnsStatus::nodata : smtp::DnsStatus::ok), "a plain address answer misread");
      FUZZ_CHECK(a.ips == want_ip, "addresses lost, added or reordered");
    }
  }
  return 0;
}
