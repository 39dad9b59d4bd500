// RFC 1413 reply parsing (reactor/ident.h parse_ident_reply), as tcpserver,
// tcp-env and tcpclient use it to fill TCPREMOTEINFO with a stranger's bytes.
//
// Input: an optional first line "REMOTEPORT LOCALPORT\n" (decimal; the
// connection the query asked about, 6193 and 23 when the first line is not
// two numbers), then the ident server's reply line as received.
// Invariants:
//   - a user-id is returned only for a USERID reply whose port pair names
//     the queried connection: the same line asked about any other pair of
//     ports gives nothing;
//   - a returned user-id is non-empty, at most 512 bytes (RFC 1413), has no
//     NUL, CR or LF (it becomes an environment value and is logged), and is
//     the line's tail after the third colon, blanks trimmed;
//   - the verdict and the user-id agree with a small reference model of the
//     RFC's grammar written here:
//       reply  = ports ":" "USERID" ":" opsys ":" user-id
//       ports  = blanks digits blanks "," blanks digits blanks
//     with blanks = space or tab, the type token case-insensitive, user-id
//     everything after the third colon (it may hold colons), and a number of
//     at most 18 digits (longer digit strings are refused; no port needs them).

#include <optional>
#include <string>
#include <string_view>

#include "reactor/ident.h"
#include "tests/fuzz/fuzz.h"

namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

// Blanks on both sides; CR and LF too at the end (the line's own break).
std::string_view strip(std::string_view s) {
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && (blank(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// A port token: 1..18 decimal digits, its value compared exactly.
bool port_is(std::string_view tok, unsigned want) {
  if (tok.empty() || tok.size() > 18) return false;
  unsigned long long v = 0;
  for (char c : tok) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long long>(c - '0');
  }
  return v == want;
}

bool is_userid(std::string_view tok) {
  static const char kWord[] = "USERID";
  if (tok.size() != 6) return false;
  for (size_t i = 0; i < 6; ++i) {
    char c = tok[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != kWord[i]) return false;
  }
  return true;
}

std::optional<std::string> reference(std::string_view line, unsigned rp, unsigned lp) {
  size_t c[3];
  size_t from = 0;
  for (size_t& ci : c) {
    ci = line.find(':', from);
    if (ci == std::string_view::npos) return std::nullopt;
    from = ci + 1;
  }
  std::string_view ports = line.substr(0, c[0]);
  size_t comma = ports.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  if (!port_is(strip(ports.substr(0, comma)), rp) || !port_is(strip(ports.substr(comma + 1)), lp))
    return std::nullopt;
  if (!is_userid(strip(line.substr(c[0] + 1, c[1] - c[0] - 1)))) return std::nullopt;
  std::string_view user = strip(line.substr(c[2] + 1));
  if (user.empty() || user.size() > 512) return std::nullopt;
  for (char ch : user)
    if (ch == '\0' || ch == '\r' || ch == '\n') return std::nullopt;
  return std::string(user);
}

// "A B\n" at the front: the queried ports. Returns false if it is not that.
bool header(std::string_view& in, unsigned& rp, unsigned& lp) {
  size_t nl = in.find('\n');
  if (nl == std::string_view::npos || nl > 24) return false;
  std::string_view h = in.substr(0, nl);
  size_t sp = h.find(' ');
  if (sp == std::string_view::npos) return false;
  auto num = [](std::string_view s, unsigned& out) {
    if (s.empty() || s.size() > 10) return false;
    unsigned long long v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<unsigned long long>(c - '0');
    }
    if (v > 0xffffffffull) return false;
    out = static_cast<unsigned>(v);
    return true;
  };
  if (!num(h.substr(0, sp), rp) || !num(h.substr(sp + 1), lp)) return false;
  in.remove_prefix(nl + 1);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  std::string_view line = in.rest();
  unsigned rp = 6193, lp = 23;
  if (!header(line, rp, lp)) { rp = 6193; lp = 23; }

  auto got = reactor::parse_ident_reply(line, rp, lp);
  auto want = reference(line, rp, lp);
  FUZZ_CHECK(got.has_value() == want.has_value(), "accepts or refuses a reply unlike the RFC 1413 model");
  if (!got) return 0;
  const std::string& user = *got;
  FUZZ_CHECK(user == *want, "a user-id other than the reference model's");
  FUZZ_CHECK(!user.empty() && user.size() <= 512, "a user-id empty or longer than RFC 1413 allows");
  for (char c : user)
    FUZZ_CHECK(c != '\0' && c != '\r' && c != '\n', "a NUL, CR or LF in the user-id");
  FUZZ_CHECK(!blank(user.front()) && !blank(user.back()), "a user-id with blanks around it");
  // It is the tail of the line, after at least three colons.
  size_t at = line.rfind(user);
  FUZZ_CHECK(at != std::string_view::npos, "a user-id that is not in the reply");
  size_t colons = 0;
  for (size_t i = 0; i < at; ++i) colons += line[i] == ':';
  FUZZ_CHECK(colons >= 3, "a user-id taken from before the third colon");
  for (char c : line.substr(at + user.size()))
    FUZZ_CHECK(blank(c) || c == '\r' || c == '\n', "text after the user-id dropped");
  // Only for the connection asked about: any other port pair gives nothing.
  FUZZ_CHECK(!reactor::parse_ident_reply(line, rp ^ 1u, lp), "a reply accepted for another remote port");
  FUZZ_CHECK(!reactor::parse_ident_reply(line, rp, lp + 1u), "a reply accepted for another local port");
  FUZZ_CHECK(!reactor::parse_ident_reply(line, rp + 65536u, lp), "a port matched modulo 2^16");
  if (rp != lp) FUZZ_CHECK(!reactor::parse_ident_reply(line, lp, rp), "a reply accepted with the ports swapped");
  return 0;
}
