// qmail-smtpd's state machine (smtp/smtpd.h) fed a client's bytes in pieces.
//
// Input: one byte of configuration, one byte of piece size, then what the
// client sends.  Invariants, beyond "no crash":
//   - a message reaches the queue only after a complete DATA (the 354 reply,
//     then a terminating ".<CR><LF>" line among the bytes that followed);
//   - one DATA gives at most one message, and every queue opened is finished
//     or abandoned once;
//   - the output is bounded by the input and is CR LF-terminated printable
//     text: no byte from the network reaches the wire raw;
//   - after the session closed, nothing more comes out and nothing is queued;
//   - an accepted STARTTLS is the last reply, and nothing fed before the
//     handshake is answered or queued;
//   - AUTH (offered in plaintext here, with CRAM-MD5) hands the
//     checkpassword at most 512 bytes without NUL or control characters in
//     the name, logs no control character, and a session ends after three
//     failures.

#include <string>
#include <vector>

#include "smtp/smtpd.h"
#include "tests/fuzz/fuzz.h"

namespace {

struct Policy : smtp::SmtpdPolicy {
  bool fail_open = false, fail_finish = false;
  int opened = 0, finished = 0, aborted = 0;
  bool open = false;
  std::string_view piece;  // the bytes being fed right now
  char before_piece = 0;   // the byte fed before them
  std::string since_open;  // client bytes from just before the piece that opened the queue on
  bool rcpt_allowed(std::string_view addr) override {
    return addr.size() >= 12 && addr.substr(addr.size() - 12) == "@example.org";
  }
  bool is_my_ip(std::string_view ip) override { return ip == "127.0.0.1"; }
  reactor::Result<unsigned long> queue_open() override {
    FUZZ_CHECK(!open, "a second queue opened while one is open");
    if (fail_open) return reactor::temp_error("unable to fork");
    ++opened;
    open = true;
    // The DATA line ends in this piece; its CR may end the piece before.
    since_open.assign(1, before_piece);
    since_open.append(piece);
    return 4242ul;
  }
  void queue_put(std::string_view) override { FUZZ_CHECK(open, "message bytes without an open queue"); }
  reactor::Status queue_finish(const std::string&, const std::vector<std::string>& to) override {
    FUZZ_CHECK(open, "queue_finish without an open queue");
    FUZZ_CHECK(!to.empty(), "a message without recipients");
    // The end of the DATA line (CR LF, or a bare LF as qmail allows in
    // commands) or of a message line, then "." CR LF: no message without it.
    FUZZ_CHECK(since_open.find("\n.\r\n") != std::string::npos, "a message without its terminating line");
    open = false;
    ++finished;
    if (fail_finish) return reactor::temp_error("qq trouble");
    return {};
  }
  int auth_calls = 0, auth_failed = 0;
  smtp::AuthVerdict auth_check(const std::string& u, const std::string& p, const std::string& c) override {
    ++auth_calls;
    FUZZ_CHECK(u.size() + p.size() + c.size() + 3 <= 512, "more than a checkpassword reads");
    FUZZ_CHECK(!u.empty() && !p.empty(), "an empty name or password reached the checkpassword");
    for (char ch : u) FUZZ_CHECK(static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f, "a control byte in the name");
    if (u == "u" && p == "p") return smtp::AuthVerdict::ok;
    if (u == "t") return smtp::AuthVerdict::temporary;
    ++auth_failed;
    return smtp::AuthVerdict::rejected;
  }
  void log(std::string_view t) override {
    for (char ch : t) FUZZ_CHECK(static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f, "a control byte in a log line");
  }
  void queue_abort() override {
    FUZZ_CHECK(open, "queue_abort without an open queue");
    open = false;
    ++aborted;
  }
  std::time_t now() override { return 1605956160; }
};

/// Replies that start with "354 " in `o`.
int count_354(std::string_view o) {
  int n = 0;
  for (size_t at = 0; (at = o.find("354 ", at)) != std::string_view::npos; at += 4)
    n += at == 0 || o[at - 1] == '\n';
  return n;
}

void check_wire(std::string_view out) {
  for (size_t i = 0; i < out.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    if (c == '\r') {
      FUZZ_CHECK(i + 1 < out.size() && out[i + 1] == '\n', "a CR not followed by LF in a reply");
      ++i;
      continue;
    }
    FUZZ_CHECK(c >= 0x20 && c < 0x7f, "a control or 8-bit byte in a reply");
  }
  FUZZ_CHECK(out.empty() || (out.size() >= 2 && out.substr(out.size() - 2) == "\r\n"),
             "a reply without its CR LF");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t conf = in.byte();
  size_t piece = fuzz::piece(in.byte());

  smtp::SmtpdConfig cfg;
  cfg.greeting = "mx.example.org";
  cfg.localiphost = "mx.example.org";
  cfg.peer.remoteip = "192.0.2.7";
  cfg.peer.remotehost = "client.example.net";
  cfg.peer.local = "mx.example.org";
  if (conf & 1) cfg.relayclient = "";
  if (conf & 2) cfg.databytes = 64;
  if (conf & 4) cfg.max_rcpts = 2;
  if (conf & 8) cfg.badmailfrom = {"bad@example.net", "@spam.example"};
  if (conf & 16) {
    cfg.max_line = 40;
    cfg.max_skip = 100;
  }
  if (conf & 32) cfg.peer.remoteinfo = "ident\r\nX";
  cfg.starttls = true;
  smtp::parse_auth_env(cfg.auth, true, (conf & 32) ? "!+cram" : "+cram", "0", "0");
  cfg.auth.cram_host = "mx.example.org";
  Policy policy;
  policy.fail_open = conf & 64;
  policy.fail_finish = conf & 128;

  smtp::Smtpd s(cfg, policy);
  s.start();
  std::string out = s.take_output();
  check_wire(out);

  int go_aheads = 0;  // 354 replies so far: one per queue opened
  size_t fed = 0, lines = 0;
  while (!in.empty()) {
    std::string_view p = in.take(piece);
    bool was_closed = s.closed();
    int before = policy.finished + policy.aborted;
    if (policy.open) policy.since_open.append(p);
    policy.piece = p;
    s.feed(p);
    if (!p.empty()) policy.before_piece = p.back();
    fed += p.size();
    for (char c : p) lines += c == '\n';
    std::string o = s.take_output();
    check_wire(o);
    if (was_closed) {
      FUZZ_CHECK(o.empty(), "output after the session closed");
      FUZZ_CHECK(policy.finished + policy.aborted == before, "queue traffic after the session closed");
    }
    FUZZ_CHECK(policy.auth_failed < 3 || s.closed(), "a fourth AUTH attempt allowed");
    go_aheads += count_354(o);
    FUZZ_CHECK(go_aheads == policy.opened, "a 354 without its own queue, or a queue without a 354");
    out += o;
    if (s.wants_tls()) {
      // The driver now starts TLS: nothing more is read in plaintext.
      constexpr std::string_view kReady = "220 ready for tls\r\n";
      FUZZ_CHECK(o.size() >= kReady.size() && o.substr(o.size() - kReady.size()) == kReady,
                 "TLS wanted without its 220 as the last reply");
      FUZZ_CHECK(!policy.open, "TLS wanted inside DATA");
      int queued = policy.opened;
      s.feed("MAIL FROM:<a@b>\r\nRCPT TO:<c@example.org>\r\nDATA\r\nx\r\n.\r\n");
      FUZZ_CHECK(s.take_output().empty() && policy.opened == queued, "plaintext read after STARTTLS");
      s.tls_started("TLS_AES_128_GCM_SHA256");
      FUZZ_CHECK(!s.wants_tls() && s.tls(), "the session did not start afresh over TLS");
    }
  }
  s.eof();
  std::string o = s.take_output();
  check_wire(o);
  out += o;
  FUZZ_CHECK(!policy.open, "a queue left open after EOF");
  FUZZ_CHECK(policy.finished + policy.aborted == policy.opened, "an opened queue neither finished nor abandoned");
  FUZZ_CHECK(out.size() <= 600 + 300 * (lines + fed / 40), "output not bounded by input");
  return 0;
}
