// qmail-remote's SMTP client machine (smtp/client.h) fed a server's reply
// stream in pieces, and quote_address() on the envelope's addresses.
//
// Input: one byte of configuration, one byte of piece size, then
//   - the envelope: the sender's line, then one line per recipient (at most
//     8), ended by an empty line; in these lines "^c" stands for the byte
//     c ^ 0x40 (^J a line feed, ^M a CR, ^@ a NUL, ^^ a caret);
//   - the stored message (LF line ends) up to the first NUL;
//   - everything after that NUL: what the server sends.
// Configuration bits: 1 the message cannot be read (body_error instead of
// body_end), 2 body pieces are taken all at once at the end, 4 the
// connection dies right after the final dot.
//
// Invariants, beyond "no crash":
//   - the client's output is CR LF lines without bare CR, LF or control
//     bytes: exactly the commands EHLO/HELO/MAIL/RCPT/DATA/QUIT built from
//     the envelope (no server byte reaches the wire), in protocol order:
//     EHLO first, HELO only after it, one MAIL, the safe recipients in order
//     (all with MAIL under PIPELINING, else each after the previous one's
//     reply), DATA only once every recipient has its report and one was
//     accepted, a command other than pipelined RCPT/QUIT only after the reply
//     to the one before, nothing after QUIT;
//   - the body on the wire is the message dot-stuffed with CR LF line ends
//     (checked against a model), ended by one "." line that never appears
//     inside it; a message with a partial final line never gets the dot;
//   - reports: NUL-terminated, at most one per recipient in order (the
//     fixed text for an unsafe address, "r", or "h"/"s" with the partner's
//     text), then exactly one K/Z/D report, only when done(); K only after
//     the dot, DATA-time "Giving up" only without accepted recipients;
//     no CR in any report;
//   - when the input ends the client has finished or waits for input (no
//     complete reply left unanswered), and a lost connection finishes it;
//   - quote_address() of a wire-safe address has no control byte, reads back
//     to the address and leaves nothing unquoted that is not a dot-atom.

#include <cstring>
#include <string>
#include <vector>

#include "smtp/client.h"
#include "smtp/remote.h"
#include "smtp/wire.h"
#include "tests/fuzz/fuzz.h"

namespace {

constexpr const char* kPartner = "192.0.2.5";
constexpr const char* kHelo = "me.example";

bool control(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool atext(unsigned char c) {
  if (c >= 0x80) return true;  // 8-bit goes out as it is
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr && c != 0;
}

// A dot-string local part of RFC 5321 (atoms joined by single dots).
bool dot_string(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s[i + 1] == '.') return false;
      continue;
    }
    if (!atext(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// quote_address() of a wire-safe address must read back to the address.
void check_quote(const std::string& addr) {
  std::string q = smtp::quote_address(addr);
  if (!smtp::wire_safe_address(addr)) return;  // the client refuses it
  for (unsigned char c : q) FUZZ_CHECK(!control(c), "a control byte in a quoted safe address");
  size_t at = addr.rfind('@');
  if (at == std::string::npos) {
    FUZZ_CHECK(q == addr, "an address without '@' changed by quoting");
    return;
  }
  std::string_view domain = std::string_view(addr).substr(at + 1);
  if (q.empty() || q[0] != '"') {
    FUZZ_CHECK(q == addr, "an unquoted address changed");
    FUZZ_CHECK(dot_string(std::string_view(addr).substr(0, at)), "a local part left unquoted that is no dot-string");
    return;
  }
  std::string local;
  size_t i = 1;
  for (; i < q.size() && q[i] != '"'; ++i) {
    if (q[i] == '\\') {
      ++i;
      FUZZ_CHECK(i < q.size(), "a quoted string ending in a backslash");
    }
    local += q[i];
  }
  FUZZ_CHECK(i < q.size(), "a quoted string without its closing quote");
  FUZZ_CHECK(q.substr(i + 1, 1) == "@", "a quoted local part not followed by '@'");
  FUZZ_CHECK(q.substr(i + 2) == domain, "the domain changed by quoting");
  FUZZ_CHECK(local == addr.substr(0, at), "the quoted local part does not read back");
}

// The model of DATA's wire form: CR LF, lone LF and lone CR each end a line,
// a leading dot is doubled, an unterminated last line gets CR LF, then ".".
std::string model_body(std::string_view m) {
  std::string lines;  // LF-only form
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\r') {
      lines += '\n';
      if (i + 1 < m.size() && m[i + 1] == '\n') ++i;
    } else {
      lines += m[i];
    }
  }
  std::string out;
  size_t pos = 0;
  while (pos < lines.size()) {
    size_t nl = lines.find('\n', pos);
    std::string_view l = std::string_view(lines).substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!l.empty() && l[0] == '.') out += '.';
    out.append(l);
    out += "\r\n";
    pos = nl == std::string::npos ? lines.size() : nl + 1;
  }
  return out + ".\r\n";
}

// Replies completed in `s` (a line ends one unless it is "NNN-...").
int count_replies(std::string_view s) {
  int n = 0;
  size_t pos = 0;
  for (;;) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string_view::npos) return n;
    std::string_view l = s.substr(pos, nl - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    bool cont = l.size() > 3 && l[3] == '-' && l[0] >= '0' && l[0] <= '9' && l[1] >= '0' && l[1] <= '9' &&
                l[2] >= '0' && l[2] <= '9';
    if (!cont) ++n;
    pos = nl + 1;
  }
}

struct Harness {
  smtp::Envelope env;
  smtp::Client c;
  std::vector<bool> safe;
  std::string server;  // server bytes fed so far
  // What the wire carried.
  bool quit = false, mail = false, data = false, dot = false, helo = false;
  int commands = 0;        // commands sent that wait for a reply (EHLO ... DATA, the dot)
  int ehlo = 0;
  int pipelined = 0;       // RCPTs sent with MAIL under PIPELINING (each waits for a reply too)
  size_t next_rcpt = 0;    // index of the next recipient whose RCPT may go out
  size_t rcpts_sent = 0;
  std::string body_wire;
  // What was reported.
  std::vector<std::string> rcpt_reports;
  std::string message_report;
  bool reported_message = false;

  Harness(smtp::Envelope e) : env(e), c(e, kPartner) {
    for (const auto& r : env.recipients) safe.push_back(smtp::wire_safe_address(r));
  }

  size_t safe_from(size_t i) const {
    while (i < env.recipients.size() && !safe[i]) ++i;
    return i;
  }

  void reports() {
    std::string r = c.take_reports();
    FUZZ_CHECK(r.empty() || r.back() == '\0', "a report without its NUL");
    size_t pos = 0;
    while (pos < r.size()) {
      size_t z = r.find('\0', pos);
      std::string rep = r.substr(pos, z - pos);
      pos = z + 1;
      FUZZ_CHECK(!reported_message, "a report after the message report");
      FUZZ_CHECK(!rep.empty(), "an empty report");
      FUZZ_CHECK(rep.find('\r') == std::string::npos, "a CR in a report");
      FUZZ_CHECK(rep.size() <= 5000 + 200, "a report beyond qmail's HUGESMTPTEXT");
      char l = rep[0];
      if (l == 'r' || l == 'h' || l == 's') {
        size_t i = rcpt_reports.size();
        FUZZ_CHECK(i < env.recipients.size(), "more recipient reports than recipients");
        if (!safe[i]) {
          FUZZ_CHECK(rep == smtp::text::kUnsafeRecipient, "an unsafe recipient without its report");
        } else {
          FUZZ_CHECK(i < next_rcpt && mail, "a recipient report before its RCPT went out");
          if (l == 'r') {
            FUZZ_CHECK(rep == "r", "text in an accepted recipient's report");
          } else {
            std::string head = std::string(1, l) + kPartner + " does not like recipient.\n";
            FUZZ_CHECK(rep.compare(0, head.size(), head) == 0, "a refused recipient's report malformed");
            FUZZ_CHECK(rep.size() == head.size() || rep.compare(head.size(), 18, "Remote host said: ") == 0,
                       "a refused recipient's report with stray text");
          }
        }
        rcpt_reports.push_back(rep);
        continue;
      }
      FUZZ_CHECK(l == 'K' || l == 'Z' || l == 'D', "a report with an unknown letter");
      reported_message = true;
      message_report = rep;
    }
    FUZZ_CHECK(reported_message == c.done(), "a message report without done(), or done() without it");
  }

  bool accepted_any() const {
    for (const auto& r : rcpt_reports)
      if (r == "r") return true;
    return false;
  }

  // One command line from the client.
  void command(std::string_view l, bool with_mail) {
    FUZZ_CHECK(!quit, "a command after QUIT");
    for (unsigned char ch : l) FUZZ_CHECK(!control(ch), "a control byte in a command");
    int replies = count_replies(server);
    bool pipelined_rcpt = false;
    if (l == "QUIT") {
      quit = true;
      return;
    }
    if (l == std::string("EHLO ") + kHelo) {
      FUZZ_CHECK(commands == 0, "EHLO not first");
      ++ehlo;
    } else if (l == std::string("HELO ") + kHelo) {
      FUZZ_CHECK(commands == 1 && ehlo == 1 && !helo, "HELO other than right after EHLO");
      helo = true;
    } else if (l.starts_with("MAIL FROM:<")) {
      FUZZ_CHECK(!mail && commands == (helo ? 2 : 1), "MAIL out of order");
      FUZZ_CHECK(smtp::wire_safe_address(env.sender), "an unsafe sender sent");
      FUZZ_CHECK(l == "MAIL FROM:<" + smtp::quote_address(env.sender) + ">", "MAIL with a wrong path");
      mail = true;
      next_rcpt = safe_from(0);
    } else if (l.starts_with("RCPT TO:<")) {
      FUZZ_CHECK(mail && !data, "RCPT outside the envelope");
      FUZZ_CHECK(next_rcpt < env.recipients.size(), "more RCPTs than safe recipients");
      FUZZ_CHECK(l == "RCPT TO:<" + smtp::quote_address(env.recipients[next_rcpt]) + ">",
                 "RCPT out of order or with a wrong path");
      if (c.pipelining()) {
        FUZZ_CHECK(with_mail, "a pipelined RCPT not sent with MAIL");
        pipelined_rcpt = true;
      }
      ++rcpts_sent;
      next_rcpt = safe_from(next_rcpt + 1);
    } else if (l == "DATA") {
      FUZZ_CHECK(mail && !data, "DATA out of order");
      FUZZ_CHECK(next_rcpt == env.recipients.size(), "DATA before every RCPT went out");
      data = true;  // its reports come out of the same feed(): checked in after()
    } else {
      FUZZ_CHECK(false, "a command the client never sends");
    }
    if (pipelined_rcpt) {
      ++pipelined;
    } else {
      FUZZ_CHECK(replies >= 1 + commands + pipelined, "a command before the reply to the one before");
      ++commands;
    }
  }

  // Output produced by feed(): command lines only.
  void commands_out() {
    std::string o = c.take_output();
    bool with_mail = false;
    size_t pos = 0;
    while (pos < o.size()) {
      size_t nl = o.find('\n', pos);
      FUZZ_CHECK(nl != std::string::npos, "a command without its line end");
      FUZZ_CHECK(nl > pos && o[nl - 1] == '\r', "a command ended by a bare LF");
      std::string_view l = std::string_view(o).substr(pos, nl - 1 - pos);
      FUZZ_CHECK(l.find('\r') == std::string_view::npos, "a bare CR in a command");
      if (l.starts_with("MAIL ")) with_mail = true;
      command(l, with_mail);
      pos = nl + 1;
    }
  }

  // One feed() may answer several replies: its commands and reports come
  // out separately, so the checks that relate them run after both.
  void feed(std::string_view p) {
    server.append(p);
    c.feed(p);
    commands_out();
    reports();
    after();
  }

  void after() {
    if (data) {
      FUZZ_CHECK(rcpt_reports.size() == env.recipients.size(), "DATA before every recipient has its report");
      FUZZ_CHECK(accepted_any(), "DATA without an accepted recipient");
    }
    // Without PIPELINING a RCPT waits for the reply of the one before.
    if (!c.pipelining()) {
      size_t sent = 0, reported = 0;
      for (size_t i = 0; i < next_rcpt && i < env.recipients.size(); ++i) sent += safe[i];
      for (size_t i = 0; i < rcpt_reports.size(); ++i) reported += safe[i];
      FUZZ_CHECK(sent <= reported + 1, "RCPT before the reply of the one before");
    }
  }
};

std::string unescape(std::string_view l) {
  std::string s;
  for (size_t i = 0; i < l.size(); ++i) {
    if (l[i] == '^' && i + 1 < l.size()) {
      ++i;
      s += l[i] == '^' ? '^' : static_cast<char>(l[i] ^ 0x40);
    } else {
      s += l[i];
    }
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t conf = in.byte();
  size_t piece = fuzz::piece(in.byte());
  std::string_view text = in.rest();

  // The envelope lines.
  smtp::Envelope env;
  env.helohost = kHelo;
  size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view l = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (first) {
      env.sender = unescape(l);
      first = false;
      continue;
    }
    if (l.empty()) break;
    if (env.recipients.size() < 8) env.recipients.push_back(unescape(l));
  }
  if (pos > text.size()) pos = text.size();
  std::string_view rest = text.substr(pos);
  size_t z = rest.find('\0');
  std::string_view message = rest.substr(0, z);
  std::string_view server = z == std::string_view::npos ? std::string_view() : rest.substr(z + 1);

  check_quote(env.sender);
  for (const auto& r : env.recipients) check_quote(r);

  Harness h(env);
  FUZZ_CHECK(h.c.take_output().empty(), "output before the greeting");
  bool body_given = false;
  while (!server.empty() && !h.c.done()) {
    std::string_view p = server.substr(0, std::min(piece, server.size()));
    server.remove_prefix(p.size());
    h.feed(p);
    if (!h.c.wants_body()) continue;
    FUZZ_CHECK(h.data && !body_given, "the body wanted without DATA, or twice");
    body_given = true;
    // The body: in pieces, then its end.
    std::string_view m = message;
    while (!m.empty()) {
      std::string_view b = m.substr(0, std::min(piece, m.size()));
      m.remove_prefix(b.size());
      h.c.body(b);
      if (!(conf & 2)) h.body_wire += h.c.take_output();
    }
    bool partial = !message.empty() && message.back() != '\n';
    if (conf & 1) {
      h.c.body_error();
      h.body_wire += h.c.take_output();
      FUZZ_CHECK(h.c.done(), "a read error did not end the session");
      h.reports();
      FUZZ_CHECK(h.message_report == "ZUnable to read message. (#4.3.0)\n", "a read error reported wrongly");
    } else {
      h.c.body_end();
      h.body_wire += h.c.take_output();
      h.reports();
      if (partial) {
        FUZZ_CHECK(h.c.done(), "a partial final line did not end the session");
        FUZZ_CHECK(h.message_report[0] == 'D', "a partial final line not refused");
      } else {
        FUZZ_CHECK(h.body_wire == model_body(message), "the body on the wire is not the dot-stuffed message");
        h.dot = true;
        ++h.commands;  // the dot waits for a reply
      }
    }
    // Only the final dot may end DATA: no "." line inside the body.
    std::string_view w = h.body_wire;
    if (h.dot) w.remove_suffix(3);
    FUZZ_CHECK(w != "." && !w.starts_with(".\r\n") && w.find("\r\n.\r\n") == std::string_view::npos,
               "DATA ended early");
    for (size_t i = 0; i < w.size(); ++i) {
      if (w[i] == '\r') FUZZ_CHECK(i + 1 < w.size() && w[i + 1] == '\n', "a bare CR in the body");
      if (w[i] == '\n') FUZZ_CHECK(i > 0 && w[i - 1] == '\r', "a bare LF in the body");
    }
    if (!h.dot) FUZZ_CHECK(h.c.done(), "no dot, yet not done");
    if ((conf & 4) && !h.c.done()) {
      h.c.connection_lost();
      h.reports();
      FUZZ_CHECK(h.message_report.find("Possible duplicate!") != std::string::npos,
                 "a connection lost after the dot without the duplicate warning");
    }
  }

  if (!h.c.done()) {
    // Waiting for input: every complete reply was answered.
    FUZZ_CHECK(!h.c.wants_body(), "waiting for a body not given");
    FUZZ_CHECK(count_replies(h.server) <= 1 + h.commands + h.pipelined, "a complete reply left unanswered");
    h.feed("");
    FUZZ_CHECK(!h.c.done(), "no input finished the session");
    bool was_dot = h.c.state() == smtp::Client::State::dot;
    h.c.connection_lost();
    h.reports();
    FUZZ_CHECK(h.c.done(), "a lost connection did not finish the session");
    std::string want = std::string("ZConnected to ") + kPartner + " but connection died. " +
                       (was_dot ? "Possible duplicate! " : "") + "(#4.4.2)\n";
    FUZZ_CHECK(h.message_report == want, "a lost connection reported wrongly");
  }
  // Once done, nothing more happens.
  h.c.feed("250 ok\r\n");
  h.c.connection_lost();
  FUZZ_CHECK(h.c.take_output().empty() && h.c.take_reports().empty(), "activity after done");

  const std::string& m = h.message_report;
  FUZZ_CHECK(h.reported_message, "no message report");
  if (m[0] == 'K') {
    FUZZ_CHECK(h.dot && h.accepted_any(), "K without the dot or an accepted recipient");
    FUZZ_CHECK(m.starts_with(std::string("K") + kPartner + " accepted message.\n"), "K report malformed");
  }
  if (m == std::string("DGiving up on ") + kPartner + ".\n")
    FUZZ_CHECK(!h.accepted_any() && h.rcpt_reports.size() == env.recipients.size(), "gave up with an accepted recipient");
  if (h.data) FUZZ_CHECK(h.rcpt_reports.size() == env.recipients.size(), "DATA without every recipient report");
  if (!smtp::wire_safe_address(env.sender))
    FUZZ_CHECK(!h.mail && (m == smtp::text::kUnsafeSender || m[0] == 'Z' || m[0] == 'D'), "an unsafe sender not refused");
  return 0;
}
