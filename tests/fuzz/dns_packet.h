#pragma once
// A builder of DNS answer packets (RFC 1035 section 4) for the tests of
// smtp/dns.h: the unit tests and the dns fuzz harness hand c-ares's parsers
// the packets a server could send, well-formed or not.

#include <cstdint>
#include <string>
#include <string_view>

namespace dnspkt {

constexpr uint16_t kA = 1, kCname = 5, kMx = 15, kAaaa = 28;

inline void u16(std::string& p, unsigned v) {
  p += static_cast<char>((v >> 8) & 0xff);
  p += static_cast<char>(v & 0xff);
}

/// A name as labels ("mx.example.org" → 2mx7example3org0); each label is
/// taken as it is, bytes of any value included.
inline std::string name(std::string_view dotted) {
  std::string out;
  size_t at = 0;
  while (at < dotted.size()) {
    size_t dot = dotted.find('.', at);
    if (dot == std::string_view::npos) dot = dotted.size();
    std::string_view label = dotted.substr(at, dot - at);
    out += static_cast<char>(label.size() & 0x3f);
    out.append(label.substr(0, 63));
    at = dot + 1;
  }
  out += '\0';
  return out;
}

/// A compression pointer to offset `off` (12 is the question's name).
inline std::string pointer(unsigned off) {
  std::string p;
  u16(p, 0xc000 | (off & 0x3fff));
  return p;
}

/// A response: header with `rcode` and the counts given, then the question.
inline std::string header(uint16_t qtype, std::string_view qname_wire, unsigned ancount, unsigned rcode = 0) {
  std::string p;
  u16(p, 0x1234);                  // id
  u16(p, 0x8180 | (rcode & 0xf));  // QR, RD, RA
  u16(p, 1);
  u16(p, ancount);
  u16(p, 0);
  u16(p, 0);
  p.append(qname_wire);
  u16(p, qtype);
  u16(p, 1);  // IN
  return p;
}

/// One answer record: owner (wire form), type, and its data.
inline std::string record(std::string_view owner_wire, uint16_t type, std::string_view rdata) {
  std::string p(owner_wire);
  u16(p, type);
  u16(p, 1);
  u16(p, 0);
  u16(p, 300);  // ttl
  u16(p, static_cast<unsigned>(rdata.size()));
  p.append(rdata);
  return p;
}

/// The data of an MX record.
inline std::string mx_data(unsigned pref, std::string_view exchange_wire) {
  std::string d;
  u16(d, pref);
  d.append(exchange_wire);
  return d;
}

}  // namespace dnspkt
