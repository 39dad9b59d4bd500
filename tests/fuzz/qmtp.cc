// qmail-qmtpd's state machine (smtp/qmtpd.h) and the netstring codec
// (smtp/netstring.h) against a reference reading of QMTP.
//
// Input: one byte of configuration, one byte choosing which queue operation
// fails, then a stream of pieces, each one byte of piece size followed by
// that many bytes of what the client sends (0: all the rest); eof() or
// timeout() at the end.
// The harness parses the whole stream itself, as QMTP defines it (netstrings
// "len:data,": a message whose first byte is LF or CR, a sender, and a list
// of recipient netstrings), and checks, beyond "no crash":
//   - a message reaches the queue only from a complete, well-formed package,
//     with the sender, recipients and body the reference reads from it (CR LF
//     turned into LF in CR mode), after qmail-qmtpd's Received line; nothing
//     is queued from a truncated or malformed package;
//   - an address holding a control character never reaches the queue;
//   - the output is exactly one reply netstring per recipient of every
//     complete package, in order, each K, Z or D with the letter the
//     reference expects, printable text only, bounded by the input;
//   - every queue opened is finished or abandoned once, and the exit code is
//     0 exactly when the stream ended cleanly between packages;
//   - netstring(): encoding any data and decoding it, whole or in pieces,
//     gives the data back; the decoder refuses what the reference refuses.

#include <string>
#include <vector>

#include "queue/date822.h"
#include "smtp/netstring.h"
#include "smtp/qmtpd.h"
#include "tests/fuzz/fuzz.h"

namespace {

constexpr std::time_t kNow = 1605956160;

struct Queued {
  std::string message, from;
  std::vector<std::string> to;
};

struct Policy : smtp::SmtpdPolicy {
  int fail_open_at = 0, fail_finish_at = 0;  // 1-based; 0 never
  bool finish_temporary = true;
  int opens = 0, finishes = 0;
  bool open = false;
  std::string message;
  std::vector<Queued> queued;
  bool rcpt_allowed(std::string_view addr) override {
    return addr.size() >= 12 && addr.substr(addr.size() - 12) == "@example.org";
  }
  bool is_my_ip(std::string_view) override { return false; }
  reactor::Result<unsigned long> queue_open() override {
    FUZZ_CHECK(!open, "a second queue opened while one is open");
    if (++opens == fail_open_at) return reactor::temp_error("unable to fork");
    open = true;
    message.clear();
    return 4242ul;
  }
  void queue_put(std::string_view b) override {
    FUZZ_CHECK(open, "message bytes without an open queue");
    message.append(b);
  }
  reactor::Status queue_finish(const std::string& from, const std::vector<std::string>& to) override {
    FUZZ_CHECK(open, "queue_finish without an open queue");
    open = false;
    if (++finishes == fail_finish_at)
      return finish_temporary ? reactor::temp_error("qq trouble (#4.3.0)") : reactor::perm_error("qq refused (#5.3.0)");
    queued.push_back(Queued{message, from, to});
    return {};
  }
  void queue_abort() override {
    FUZZ_CHECK(open, "queue_abort without an open queue");
    open = false;
  }
  std::time_t now() override { return kNow; }
};

// ---- the reference reading of QMTP ---------------------------------------

struct Caps {
  size_t message, list;
  unsigned long databytes;
  size_t max_rcpts;
  std::string relay;
  bool has_relay;
};

/// Reads "len:" at s[at..end): digits, no leading zero but a lone "0", at
/// most `cap`, then a colon. Returns false when malformed or cut short.
bool ref_length(std::string_view s, size_t& at, size_t end, size_t cap, size_t& len) {
  size_t start = at;
  len = 0;
  while (at < end && s[at] >= '0' && s[at] <= '9') {
    if (at - start == 1 && s[start] == '0') return false;
    len = len * 10 + static_cast<size_t>(s[at] - '0');
    if (len > cap) return false;
    ++at;
  }
  if (at == start || at >= end || s[at] != ':') return false;
  ++at;
  return true;
}

bool has_control(std::string_view a) {
  for (unsigned char c : a)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

struct Package {
  std::string from, body;
  std::vector<std::string> rcpts;  // as sent
  bool dos = false;
};

/// Splits `s` into the complete packages at its front; `clean` is true when
/// nothing follows the last of them.
std::vector<Package> ref_packages(std::string_view s, const Caps& caps, bool& clean) {
  std::vector<Package> out;
  size_t at = 0;
  clean = false;
  for (;;) {
    if (at == s.size()) {
      clean = true;
      return out;
    }
    Package p;
    size_t len;
    if (!ref_length(s, at, s.size(), caps.message, len) || len == 0 || at + len >= s.size()) return out;
    char mode = s[at];
    if (mode != '\n' && mode != '\r') return out;
    p.dos = mode == '\r';
    std::string_view raw = s.substr(at + 1, len - 1);
    at += len;
    if (s[at++] != ',') return out;
    if (!p.dos) {
      p.body.assign(raw);
    } else {
      for (size_t i = 0; i < raw.size(); ++i)
        if (!(raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n')) p.body += raw[i];
    }
    if (!ref_length(s, at, s.size(), caps.message, len) || at + len >= s.size()) return out;
    p.from.assign(s.substr(at, len));
    at += len;
    if (s[at++] != ',') return out;
    if (!ref_length(s, at, s.size(), caps.list, len) || at + len >= s.size()) return out;
    size_t list_end = at + len;
    while (at < list_end) {
      size_t rl;
      if (!ref_length(s, at, list_end, caps.list, rl) || at + rl >= list_end) return out;
      p.rcpts.emplace_back(s.substr(at, rl));
      at += rl;
      if (s[at++] != ',') return out;
    }
    if (s[at++] != ',') return out;
    out.push_back(std::move(p));
  }
}

/// The reply letters and queued envelope the reference expects of one package.
struct Expect {
  std::vector<char> letters;
  bool queue = false;
  std::vector<std::string> to;
};

Expect ref_expect(const Package& p, const Caps& caps) {
  Expect e;
  std::vector<size_t> accepted;
  for (const std::string& r : p.rcpts) {
    char l = 0;
    std::string addr = r;
    if (r.size() + (caps.has_relay ? caps.relay.size() : 0) >= 1000 || has_control(r)) l = 'D';
    else if (caps.has_relay) addr += caps.relay;
    else if (!(addr.size() >= 12 && addr.substr(addr.size() - 12) == "@example.org")) l = 'D';
    if (!l && e.to.size() >= caps.max_rcpts) l = 'Z';
    if (!l) {
      e.to.push_back(addr);
      accepted.push_back(e.letters.size());
    }
    e.letters.push_back(l);
  }
  bool too_big = caps.databytes && p.body.size() > caps.databytes;
  bool from_bad = p.from.size() >= 1000 || has_control(p.from);
  e.queue = !e.to.empty() && !too_big && !from_bad;
  char msg = e.queue ? 'K' : 'Z';
  if (from_bad || too_big) msg = 'D';
  for (size_t i : accepted) e.letters[i] = msg;
  return e;
}

/// Splits the output into netstrings; every one must be complete.
std::vector<std::string> replies(std::string_view o) {
  std::vector<std::string> r;
  size_t at = 0;
  while (at < o.size()) {
    size_t len;
    FUZZ_CHECK(ref_length(o, at, o.size(), 1000, len), "the output is not a netstring");
    FUZZ_CHECK(at + len < o.size() && o[at + len] == ',', "a reply netstring cut short");
    r.emplace_back(o.substr(at, len));
    at += len + 1;
  }
  return r;
}

void check_codec(std::string_view data, uint8_t chooser) {
  std::string enc = smtp::netstring(data);
  smtp::NetstringDecoder d(data.size());
  size_t step = fuzz::piece(chooser);
  std::optional<std::string> got;
  for (size_t at = 0; at < enc.size() && !got; at += step) {
    d.feed(std::string_view(enc).substr(at, step));
    got = d.next();
    FUZZ_CHECK(!d.error(), "the decoder refused an encoded netstring");
  }
  FUZZ_CHECK(got && *got == data && d.pending().empty(), "netstring round trip");
  if (data.size() > 0) {
    smtp::NetstringDecoder small(data.size() - 1);
    small.feed(enc);
    FUZZ_CHECK(!small.next() && small.error(), "the decoder took a netstring above its cap");
  }
  // The raw bytes as a stream: the decoder and the reference agree.
  smtp::NetstringDecoder raw(64);
  raw.feed(data);
  size_t at = 0, len = 0;
  bool ok = ref_length(data, at, data.size(), 64, len) && at + len < data.size() && data[at + len] == ',';
  std::optional<std::string> one = raw.next();
  if (ok) FUZZ_CHECK(one && *one == data.substr(at, len), "the decoder lost a netstring the reference reads");
  else FUZZ_CHECK(!one, "the decoder read a netstring the reference refuses");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t cfg = in.byte(), fails = in.byte();
  Caps caps;
  caps.message = cfg & 1 ? 300 : 200000000;
  caps.list = cfg & 2 ? 120 : 10u << 20;
  caps.databytes = cfg & 4 ? 40 : 0;
  caps.max_rcpts = cfg & 8 ? 2 : 1000;
  caps.has_relay = cfg & 16;
  caps.relay = cfg & 32 ? "@relay.example" : "";
  bool by_timeout = cfg & 64;

  smtp::QmtpdConfig qc;
  qc.databytes = caps.databytes;
  if (caps.has_relay) qc.relayclient = caps.relay;
  qc.max_message = caps.message;
  qc.max_rcpt_list = caps.list;
  qc.max_rcpts = caps.max_rcpts;
  qc.peer.remoteip = "192.0.2.7";
  Policy pol;
  pol.fail_open_at = fails & 7;
  pol.fail_finish_at = (fails >> 3) & 7;
  pol.finish_temporary = !(fails & 64);
  smtp::Qmtpd q(qc, pol);

  std::string sent, out;
  while (!in.empty() && !q.closed()) {
    std::string_view piece = in.take(fuzz::piece(in.byte()));
    sent.append(piece);
    q.feed(piece);
    while (q.output_pending()) {
      std::string o = q.take_output();
      FUZZ_CHECK(!o.empty(), "output pending but none given");
      out += o;
    }
  }
  bool closed_early = q.closed();
  if (!closed_early) {
    if (by_timeout) q.timeout();
    else q.eof();
  }
  while (q.output_pending()) out += q.take_output();
  out += q.take_output();
  FUZZ_CHECK(q.closed(), "still open after the end of input");
  FUZZ_CHECK(!pol.open, "a queue left open at the end");

  bool clean;
  std::vector<Package> pk = ref_packages(sent, caps, clean);
  // A package whose queue could not be opened ends the dialogue there.
  if (pol.fail_open_at && pol.opens >= pol.fail_open_at) {
    if (pk.size() >= size_t(pol.fail_open_at)) pk.resize(pol.fail_open_at - 1);
    clean = false;
  }
  std::vector<std::string> got = replies(out);
  size_t r = 0, finishes = 0, queued = 0;
  const std::string received = smtp::received_line("QMTP", qc.peer, std::nullopt, queue::date822_utc(kNow));
  for (const Package& p : pk) {
    Expect e = ref_expect(p, caps);
    char msg_letter = 0;
    if (e.queue) {
      ++finishes;
      if (int(finishes) == pol.fail_finish_at) {
        msg_letter = pol.finish_temporary ? 'Z' : 'D';
      } else {
        FUZZ_CHECK(queued < pol.queued.size(), "a complete package was not queued");
        const Queued& qd = pol.queued[queued++];
        FUZZ_CHECK(qd.from == p.from, "the queued sender differs from the package's");
        FUZZ_CHECK(qd.to == e.to, "the queued recipients differ from the package's");
        FUZZ_CHECK(qd.message == received + p.body, "the queued message differs from the package's");
        for (const std::string& a : qd.to) FUZZ_CHECK(!has_control(a), "a control character reached the queue");
        FUZZ_CHECK(!has_control(qd.from), "a control character reached the queue");
      }
    }
    for (char l : e.letters) {
      FUZZ_CHECK(r < got.size(), "a recipient without its reply");
      const std::string& g = got[r++];
      FUZZ_CHECK(!g.empty(), "an empty reply");
      char want = l == 'K' && msg_letter ? msg_letter : l;
      FUZZ_CHECK(g[0] == want, "a reply with the wrong letter");
      for (unsigned char c : g) FUZZ_CHECK(c >= 0x20 && c < 0x7f, "a control or 8-bit byte in a reply");
    }
  }
  FUZZ_CHECK(r == got.size(), "replies beyond the recipients sent");
  FUZZ_CHECK(queued == pol.queued.size(), "a message queued that no complete package holds");
  FUZZ_CHECK(out.size() <= 64 * sent.size() + 64, "output out of proportion to the input");
  if (clean && !by_timeout) FUZZ_CHECK(q.exit_code() == 0, "a clean end that did not exit 0");
  if (!clean) FUZZ_CHECK(q.exit_code() != 0, "a broken stream that exited 0");

  check_codec(std::string_view(reinterpret_cast<const char*>(data), size < 300 ? size : 300), cfg);
  return 0;
}
