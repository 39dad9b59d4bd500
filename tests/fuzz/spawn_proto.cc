// The spawn pipe protocol (queue/spawn_proto.h) between qmail-send and its
// spawners, and the spawner's request checks (spawn/spawner.h).
//
// Input: one byte of choices (bit 0: wide slots; the rest: piece size),
// one byte of field padding, then bytes used three ways:
//   - as a raw request stream and a raw report stream, each decoded whole
//     and in pieces, against a reference reading of the protocol;
//   - split at NULs into fields, encoded as requests and reports (some
//     fields padded to about the request field cap) and decoded again;
//   - every request decoded, through check_request().
// Invariants, beyond "no crash":
//   - a decoder gives the same requests (reports) whether its input comes
//     whole or in pieces, and the same ones the reference reads;
//   - a request decoder refuses a field exactly when it is longer than
//     kMaxRequestField, complete or not, and never before;
//   - encode then decode gives every request back, slots included (two
//     bytes when wide); a report's text is cut at its first NUL and at
//     kMaxReportText, nothing else changes;
//   - check_request() passes only a slot below the slot count, a message
//     name of digits "/" digits of at most 100 bytes (never a path that
//     could leave queue/mess), and a recipient holding '@';
//   - a hello read the way qmail-send reads it gives the slots offered,
//     capped at 255 in the classic form, and the wide form only above 255.

#include <optional>
#include <string>
#include <vector>

#include "queue/spawn_proto.h"
#include "spawn/spawner.h"
#include "tests/fuzz/fuzz.h"

namespace {

using queue::proto::kMaxReportText;
using queue::proto::kMaxRequestField;
using queue::proto::Report;
using queue::proto::Request;

bool same(const Request& a, const Request& b) {
  return a.slot == b.slot && a.mess == b.mess && a.sender == b.sender && a.recipient == b.recipient;
}

bool same(const Report& a, const Report& b) { return a.slot == b.slot && a.status == b.status && a.text == b.text; }

std::uint16_t slot_at(std::string_view s, size_t at, bool wide) {
  auto b = [&](size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(s[at + i])); };
  return static_cast<std::uint16_t>(wide ? (b(0) << 8 | b(1)) : b(0));
}

/// The reference reading of a request stream: the complete requests, and
/// whether a field longer than the cap was seen.
std::vector<Request> ref_requests(std::string_view s, bool wide, bool& error) {
  std::vector<Request> out;
  const size_t w = wide ? 2 : 1;
  size_t at = 0;
  error = false;
  while (s.size() - at >= w) {
    Request r;
    r.slot = slot_at(s, at, wide);
    size_t p = at + w;
    std::string* fields[3] = {&r.mess, &r.sender, &r.recipient};
    for (std::string* f : fields) {
      size_t z = s.find('\0', p);
      size_t len = (z == std::string_view::npos ? s.size() : z) - p;
      if (len > kMaxRequestField) {
        error = true;
        return out;
      }
      if (z == std::string_view::npos) return out;
      f->assign(s.substr(p, len));
      p = z + 1;
    }
    out.push_back(std::move(r));
    at = p;
  }
  return out;
}

/// The reference reading of a report stream (texts cut, never refused).
std::vector<Report> ref_reports(std::string_view s, bool wide) {
  std::vector<Report> out;
  const size_t w = wide ? 2 : 1;
  size_t at = 0;
  while (s.size() - at >= w + 1) {
    size_t z = s.find('\0', at + w + 1);
    size_t len = (z == std::string_view::npos ? s.size() : z) - at - w - 1;
    // An unterminated text is given once it is over the cap (what follows
    // up to its NUL is dropped); otherwise it waits for its NUL.
    if (z == std::string_view::npos && len <= kMaxReportText) return out;
    out.push_back(Report{slot_at(s, at, wide), s[at + w], std::string(s.substr(at + w + 1, std::min(len, kMaxReportText)))});
    if (z == std::string_view::npos) return out;
    at = z + 1;
  }
  return out;
}

std::vector<Request> decode_requests(std::string_view s, bool wide, size_t step, bool& error) {
  queue::proto::RequestDecoder d(wide);
  std::vector<Request> out;
  for (size_t at = 0; at < s.size() || at == 0; at += step) {
    d.feed(s.substr(std::min(at, s.size()), step));
    while (auto r = d.next()) out.push_back(std::move(*r));
    if (at >= s.size()) break;
  }
  error = d.error();
  if (error) FUZZ_CHECK(!d.next(), "a request decoder that gives requests after its error");
  return out;
}

std::vector<Report> decode_reports(std::string_view s, bool wide, size_t step) {
  queue::proto::ReportDecoder d(wide);
  std::vector<Report> out;
  for (size_t at = 0; at < s.size() || at == 0; at += step) {
    d.feed(s.substr(std::min(at, s.size()), step));
    while (auto r = d.next()) out.push_back(std::move(*r));
    if (at >= s.size()) break;
  }
  return out;
}

void check_requests(std::string_view s, bool wide, size_t step) {
  bool ref_error, whole_error, piece_error;
  std::vector<Request> ref = ref_requests(s, wide, ref_error);
  std::vector<Request> whole = decode_requests(s, wide, s.size() + 1, whole_error);
  std::vector<Request> pieces = decode_requests(s, wide, step, piece_error);
  FUZZ_CHECK(whole_error == ref_error && piece_error == ref_error, "a request decoder refused what the reference takes, or took what it refuses");
  FUZZ_CHECK(whole.size() == ref.size() && pieces.size() == ref.size(), "a request decoder read a different number of requests");
  for (size_t i = 0; i < ref.size(); ++i)
    FUZZ_CHECK(same(whole[i], ref[i]) && same(pieces[i], ref[i]), "a request decoded differently");
}

void check_reports(std::string_view s, bool wide, size_t step) {
  std::vector<Report> ref = ref_reports(s, wide);
  std::vector<Report> whole = decode_reports(s, wide, s.size() + 1);
  std::vector<Report> pieces = decode_reports(s, wide, step);
  FUZZ_CHECK(whole.size() == ref.size() && pieces.size() == ref.size(), "a report decoder read a different number of reports");
  for (size_t i = 0; i < ref.size(); ++i)
    FUZZ_CHECK(same(whole[i], ref[i]) && same(pieces[i], ref[i]), "a report decoded differently");
}

/// check_request() against the rules it must apply.
void check_policy(const Request& r, int slots) {
  bool busy = r.slot & 1;
  std::optional<std::string> bad = spawn::check_request(r, slots, busy);
  size_t slash = r.mess.find('/');
  bool digits = slash != std::string::npos && slash > 0 && slash + 1 < r.mess.size();
  for (size_t i = 0; digits && i < r.mess.size(); ++i)
    digits = i == slash || (r.mess[i] >= '0' && r.mess[i] <= '9');
  bool want_ok = r.slot < slots && !busy && digits && r.mess.size() <= 100 &&
                 r.recipient.find('@') != std::string::npos;
  FUZZ_CHECK(bad.has_value() != want_ok, "check_request() passed a bad request, or refused a good one");
  if (bad) {
    FUZZ_CHECK(bad->size() > 2 && ((*bad)[0] == 'Z' || (*bad)[0] == 'D') && bad->back() == '\n', "a malformed refusal");
    if (r.slot >= slots || busy) FUZZ_CHECK((*bad)[0] == 'Z', "a slot error that is not temporary");
  } else {
    FUZZ_CHECK(r.mess.find("..") == std::string::npos && r.mess[0] != '/', "a message name that leaves queue/mess");
  }
}

/// Reads a hello as qmail-send does: one byte, or 0 and two more.
unsigned read_hello(std::string_view h) {
  FUZZ_CHECK(!h.empty(), "an empty hello");
  unsigned n = static_cast<unsigned char>(h[0]);
  if (n == 0) {
    FUZZ_CHECK(h.size() == 3, "a wide hello of the wrong length");
    n = static_cast<unsigned>(static_cast<unsigned char>(h[1])) << 8 | static_cast<unsigned char>(h[2]);
  } else {
    FUZZ_CHECK(h.size() == 1, "a classic hello of the wrong length");
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t choice = in.byte(), pad = in.byte();
  const bool wide = choice & 1;
  const size_t step = fuzz::piece(choice >> 1);
  std::string_view s = in.rest();

  check_requests(s, wide, step);
  check_reports(s, wide, step);

  // Fields from the input, some padded to the cap or just around it.
  std::vector<std::string> fields;
  for (size_t at = 0; at <= s.size();) {
    size_t z = s.find('\0', at);
    if (z == std::string_view::npos) z = s.size();
    fields.emplace_back(s.substr(at, z - at));
    at = z + 1;
  }
  for (size_t i = 0; i < fields.size(); ++i)
    if (pad & (1u << (i % 8)) && fields.size() < 12)
      fields[i].resize(kMaxRequestField - 2 + (pad >> 5) % 5, 'x');  // cap-2 .. cap+2

  std::string stream, reports;
  std::vector<Request> sent;
  std::vector<Report> told;
  for (size_t i = 0; i + 3 <= fields.size(); i += 3) {
    Request r;
    r.slot = static_cast<std::uint16_t>((fields[i].size() * 131 + i) & (wide ? 0xffff : 0xff));
    r.mess = fields[i];
    r.sender = fields[i + 1];
    r.recipient = fields[i + 2];
    stream += queue::proto::encode_request(r, wide);
    sent.push_back(r);
    Report rep{r.slot, r.mess.empty() ? 'K' : r.mess[0], r.sender + '\0' + r.recipient};
    reports += queue::proto::encode_report(rep, wide);
    told.push_back(rep);
    check_policy(r, pad);
  }
  bool error;
  std::vector<Request> back = decode_requests(stream, wide, step, error);
  bool over = false;
  size_t good = 0;
  for (const Request& r : sent) {
    if (r.mess.size() > kMaxRequestField || r.sender.size() > kMaxRequestField || r.recipient.size() > kMaxRequestField) {
      over = true;
      break;
    }
    ++good;
  }
  FUZZ_CHECK(error == over, "encoded requests refused, or an over-long field taken");
  FUZZ_CHECK(back.size() == good, "encoded requests lost");
  for (size_t i = 0; i < good; ++i) FUZZ_CHECK(same(back[i], sent[i]), "a request changed on its way");
  std::vector<Report> heard = decode_reports(reports, wide, step);
  FUZZ_CHECK(heard.size() == told.size(), "encoded reports lost");
  for (size_t i = 0; i < told.size(); ++i) {
    std::string cut = told[i].text.substr(0, told[i].text.find('\0')).substr(0, kMaxReportText);
    FUZZ_CHECK(heard[i].slot == told[i].slot && heard[i].status == told[i].status && heard[i].text == cut,
               "a report changed on its way beyond its cuts");
  }

  // Hellos for slot counts around the classic and wide limits.
  unsigned slots = static_cast<unsigned>(choice) << 8 | pad;
  for (unsigned n : {slots, slots & 0x1ff, 70000u + pad}) {
    for (bool wide_ok : {false, true}) {
      std::string h = queue::proto::encode_hello(n, wide_ok);
      unsigned got = read_hello(h);
      unsigned want = !wide_ok || n <= 255 ? std::min(n, 255u) : std::min(n, queue::proto::kMaxWideSlots);
      if (want == 0) want = 1;  // a 0 byte would start the wide form
      FUZZ_CHECK(got == want, "a hello that offers the wrong number of slots");
      FUZZ_CHECK((h[0] == '\0') == (got > 255), "the wide form where the classic one fits, or the reverse");
    }
  }
  return 0;
}
