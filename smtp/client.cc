// SMTP client state machine (see client.h). Texts and decisions follow
// qmail-remote.c 1.03 [COMPAT]: wrappers and bounce parsers match on them.
#include "smtp/client.h"

#include <cstdio>
#include <utility>

#include "smtp/remote.h"
#include "smtp/sasl.h"

namespace smtp {

namespace {

constexpr size_t kHugeSmtpText = 5000;  // qmail's HUGESMTPTEXT

// Characters allowed unquoted in a local part (RFC 5321 atext, plus '.').
bool atext(unsigned char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool needs_quote(std::string_view box) {
  if (box.empty() || box.front() == '.' || box.back() == '.') return true;
  for (size_t i = 0; i < box.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(box[i]);
    if (c == '.') {
      if (i + 1 < box.size() && box[i + 1] == '.') return true;
      continue;
    }
    if (c >= 128) continue;  // 8-bit passes as it is, like qmail
    if (!atext(c)) return true;
  }
  return false;
}

// A malformed reply counts as a temporary failure at every stage.
int effective_code(const Reply& r) { return r.code < 0 ? 421 : r.code; }

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return s;
}

}  // namespace

std::string quote_address(std::string_view addr) {
  size_t at = addr.rfind('@');
  // qmail copies an address without '@' (e.g. the empty sender) unchanged.
  if (at == std::string_view::npos) return std::string(addr);
  std::string_view box = addr.substr(0, at);
  std::string out;
  if (!needs_quote(box)) {
    out.assign(box);
  } else {
    out += '"';
    for (char c : box) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '@';
  out.append(addr.substr(at + 1));
  return out;
}

const char* to_string(Client::State s) {
  switch (s) {
    case Client::State::greeting: return "greeting";
    case Client::State::ehlo: return "ehlo";
    case Client::State::helo: return "helo";
    case Client::State::starttls: return "starttls";
    case Client::State::tls: return "tls";
    case Client::State::auth_user: return "auth_user";
    case Client::State::auth_pass: return "auth_pass";
    case Client::State::auth: return "auth";
    case Client::State::mail: return "mail";
    case Client::State::rcpt: return "rcpt";
    case Client::State::data: return "data";
    case Client::State::body: return "body";
    case Client::State::dot: return "dot";
    case Client::State::done: return "done";
  }
  return "?";
}

Client::Client(Envelope env, std::string partner, ClientPolicy policy)
    : env_(std::move(env)), partner_(std::move(partner)), policy_(std::move(policy)), parser_(1u << 16) {}

void Client::enter(State s) { state_ = s; }

void Client::send(std::string_view line) {
  out_.append(line);
  out_.append("\r\n");
}

std::string Client::take_output() { return std::exchange(out_, std::string()); }
std::string Client::take_reports() { return std::exchange(reports_, std::string()); }

// The server's reply as qmail quotes it: every line with its code, CRs
// removed, NULs shown as '?', at most HUGESMTPTEXT bytes.
std::string Client::smtp_text(const Reply& r) const {
  std::string t;
  char code[8];
  std::snprintf(code, sizeof code, "%03d", r.code < 0 ? 0 : r.code % 1000);
  for (size_t i = 0; i < r.lines.size(); ++i) {
    std::string line;
    if (r.code >= 0) {
      line = code;
      line += i + 1 < r.lines.size() ? '-' : ' ';
    }
    line += r.lines[i];
    for (char c : line) {
      if (t.size() >= kHugeSmtpText) break;
      if (c == '\r') continue;
      t += c == '\0' ? '?' : c;
    }
    if (t.size() < kHugeSmtpText) t += '\n';
  }
  return t;
}

// qmail's quit(): QUIT without waiting for its answer, then the message report.
void Client::quit(char letter, std::string_view prepend, std::string_view append, const Reply* r) {
  send("QUIT");
  reports_ += letter;
  reports_.append(prepend);
  reports_.append(partner_);
  reports_.append(append);
  reports_.append(".\n");
  if (r) {
    std::string t = smtp_text(*r);
    if (!t.empty()) reports_.append("Remote host said: ").append(t);
  }
  reports_ += '\0';
  enter(State::done);
}

// A report not built from qmail's "Connected to <ip>" pieces (TLS, AUTH,
// SIZE): `report` has its letter and ends in LF.
void Client::fail(const std::string& report, const Reply* r, bool send_quit) {
  if (send_quit) send("QUIT");
  reports_ += report;
  if (r) {
    std::string t = smtp_text(*r);
    if (!t.empty()) reports_.append("Remote host said: ").append(t);
  }
  reports_ += '\0';
  enter(State::done);
}

void Client::feed(std::string_view bytes) {
  // While TLS starts, plaintext is not read: bytes after the 220 to
  // STARTTLS could only be someone else's (CVE-2011-0411 on the client side).
  if (state_ == State::done || state_ == State::tls) return;
  parser_.feed(bytes);
  while (state_ != State::done && state_ != State::tls) {
    auto r = parser_.next();
    if (!r) break;
    on_reply(*r);
  }
}

void Client::connection_lost() {
  if (state_ == State::done) return;
  reports_ += "ZConnected to ";
  reports_ += partner_;
  reports_ += " but connection died. ";
  if (critical_) reports_ += "Possible duplicate! ";
  reports_ += "(#4.4.2)\n";
  reports_ += '\0';
  enter(State::done);
}

void Client::recipient_report(const Reply& r) {
  int code = effective_code(r);
  if (code >= 400) {
    reports_ += code >= 500 ? 'h' : 's';
    reports_ += partner_;
    reports_ += " does not like recipient.\n";
    std::string t = smtp_text(r);
    if (!t.empty()) reports_.append("Remote host said: ").append(t);
  } else {
    reports_ += 'r';
    accepted_any_ = true;
  }
  reports_ += '\0';
}

// A recipient that cannot be put on the wire safely fails permanently here
// and never reaches a command line (the reports stay in recipient order).
void Client::skip_unsafe() {
  while (next_rcpt_ < env_.recipients.size() && !wire_safe_address(env_.recipients[next_rcpt_])) {
    reports_ += text::kUnsafeRecipient;
    reports_ += '\0';
    ++next_rcpt_;
  }
}

void Client::after_recipients() {
  if (!accepted_any_) return quit('D', "Giving up on ", "", nullptr);
  send("DATA");
  enter(State::data);
}

void Client::on_reply(const Reply& r) {
  int code = effective_code(r);
  switch (state_) {
    case State::greeting:
      if (code != 220) return quit('Z', "Connected to ", " but greeting failed", &r);
      send("EHLO " + env_.helohost);
      return enter(State::ehlo);
    case State::ehlo:
      if (code != 250) {
        // RFC 5321 4.1.4: a server that does not know EHLO gets HELO.
        send("HELO " + env_.helohost);
        return enter(State::helo);
      }
      extensions(r);
      return hello_done(true);
    case State::helo:
      if (code != 250) return quit('Z', "Connected to ", " but my name was rejected", &r);
      return hello_done(false);
    case State::starttls:
      if (code == 220) return enter(State::tls);
      // The qmail-tls patch: a refusal is fatal only where TLS is required;
      // otherwise the same session goes on in plaintext.
      if (policy_.tls == TlsPolicy::required)
        return fail("ZSTARTTLS rejected while " + policy_.tls_file + " exists. (#4.7.0)\n", &r, true);
      return after_tls_decision();
    case State::tls:
      return;
    case State::auth_user:
    case State::auth_pass:
      if (code == 334) {
        send(sasl::base64_encode(state_ == State::auth_user ? policy_.user : policy_.password));
        return enter(state_ == State::auth_user ? State::auth_pass : State::auth);
      }
      [[fallthrough]];
    case State::auth:
      // Every refusal defers, 535 included: one wrong password must not
      // bounce a whole queue of mail for the smarthost (doc/qmail-remote.8).
      if (code / 100 != 2) return fail("ZAuthentication with " + host_name() + " failed. (#4.7.0)\n", &r, true);
      return envelope();
    case State::mail:
      if (code >= 500) return quit('D', "Connected to ", " but sender was rejected", &r);
      if (code >= 400) return quit('Z', "Connected to ", " but sender was rejected", &r);
      skip_unsafe();
      if (next_rcpt_ >= env_.recipients.size()) return after_recipients();
      if (!pipelining_) send("RCPT TO:<" + quote_address(env_.recipients[next_rcpt_]) + ">");
      return enter(State::rcpt);
    case State::rcpt:
      recipient_report(r);
      ++next_rcpt_;
      skip_unsafe();
      if (next_rcpt_ >= env_.recipients.size()) return after_recipients();
      if (!pipelining_) send("RCPT TO:<" + quote_address(env_.recipients[next_rcpt_]) + ">");
      return;
    case State::data:
      if (code >= 500) return quit('D', "", " failed on DATA command", &r);
      if (code >= 400) return quit('Z', "", " failed on DATA command", &r);
      return enter(State::body);
    case State::body:
      // A reply in the middle of the body: the server gave up on us.
      if (code >= 500) return quit('D', "", " failed after I sent the message", &r);
      return quit('Z', "", " failed after I sent the message", &r);
    case State::dot:
      critical_ = false;
      if (code >= 500) return quit('D', "", " failed after I sent the message", &r);
      if (code >= 400) return quit('Z', "", " failed after I sent the message", &r);
      return quit('K', "", " accepted message", &r);
    case State::done:
      return;
  }
}

// The extensions of an EHLO reply (each call replaces the previous ones:
// what a server said before STARTTLS does not count after it).
void Client::extensions(const Reply& r) {
  pipelining_ = starttls_offered_ = auth_plain_ = auth_login_ = size_offered_ = false;
  size_limit_ = 0;
  for (size_t i = 1; i < r.lines.size(); ++i) {
    std::string line = upper(r.lines[i]);
    size_t end = line.find_first_of(" \t=");
    std::string kw = line.substr(0, end);
    std::string rest = end == std::string::npos ? "" : line.substr(end + 1);
    if (kw == "PIPELINING") pipelining_ = true;
    if (kw == "STARTTLS") starttls_offered_ = true;
    if (kw == "SIZE") {
      size_offered_ = true;
      uint64_t n = 0;
      size_t k = 0;
      while (k < rest.size() && (rest[k] == ' ' || rest[k] == '\t')) ++k;
      for (; k < rest.size() && rest[k] >= '0' && rest[k] <= '9' && n < (1ull << 60); ++k) n = n * 10 + (rest[k] - '0');
      size_limit_ = n;
    }
    if (kw == "AUTH") {
      // "AUTH LOGIN PLAIN", or the old "AUTH=LOGIN" some servers still send.
      for (char& c : rest)
        if (c == '=' || c == '\t') c = ' ';
      rest = " " + rest + " ";
      if (rest.find(" PLAIN ") != std::string::npos) auth_plain_ = true;
      if (rest.find(" LOGIN ") != std::string::npos) auth_login_ = true;
    }
  }
}

// EHLO (esmtp) or HELO accepted: STARTTLS first if the policy asks for it.
void Client::hello_done(bool esmtp) {
  if (!tls_active_ && policy_.tls != TlsPolicy::off) {
    if (esmtp && starttls_offered_) {
      send("STARTTLS");
      return enter(State::starttls);
    }
    if (policy_.tls == TlsPolicy::required)
      return fail("ZNo TLS achieved while " + policy_.tls_file + " exists. (#4.7.0)\n", nullptr, true);
  }
  after_tls_decision();
}

// TLS is up or will not be: AUTH for a smarthost with credentials, then MAIL.
void Client::after_tls_decision() {
  if (!policy_.auth) return envelope();
  // Credentials never travel in plaintext.
  if (!tls_active_)
    return fail("ZAuthentication not sent: no TLS with " + host_name() + ". (#4.7.0)\n", nullptr, true);
  if (auth_plain_) {
    std::string blob;
    blob += '\0';
    blob += policy_.user;
    blob += '\0';
    blob += policy_.password;
    send("AUTH PLAIN " + sasl::base64_encode(blob));
    return enter(State::auth);
  }
  if (auth_login_) {
    send("AUTH LOGIN");
    return enter(State::auth_user);
  }
  fail("Z" + host_name() + " does not offer AUTH PLAIN or LOGIN, so I cannot authenticate. (#4.7.0)\n", nullptr,
       true);
}

void Client::tls_started() {
  tls_active_ = true;
  if (state_ != State::tls) return;  // implicit TLS: the greeting comes next
  // RFC 3207 4.2: forget what the server said in plaintext, and EHLO again.
  parser_ = ReplyParser(1u << 16);
  pipelining_ = starttls_offered_ = auth_plain_ = auth_login_ = size_offered_ = false;
  size_limit_ = 0;
  send("EHLO " + env_.helohost);
  enter(State::ehlo);
}

void Client::tls_failed(std::string_view reason) {
  if (state_ == State::done) return;
  out_.clear();  // nothing more can go over this connection
  fail("ZTLS connect failed: " + std::string(reason) + ". (#4.7.0)\n", nullptr, false);
}

void Client::tls_unverified(std::string_view reason) {
  if (state_ == State::done) return;
  fail("ZTLS unable to verify server with " + policy_.tls_file + ": " + std::string(reason) + ". (#4.7.0)\n",
       nullptr, true);
}

// The envelope. With PIPELINING (RFC 2920) MAIL and every RCPT go out in
// one write; DATA waits for their replies, so a body is never sent to a
// server that accepted no recipient.
void Client::envelope() {
  if (!wire_safe_address(env_.sender)) {
    send("QUIT");
    reports_ += text::kUnsafeSender;
    reports_ += '\0';
    return enter(State::done);
  }
  // RFC 1870: a message over the announced limit would only be refused
  // after it was sent; it fails permanently here instead.
  if (size_limit_ > 0 && env_.size >= 0 && static_cast<uint64_t>(env_.size) > size_limit_)
    return fail("DSorry, the message is larger than " + host_name() + "'s limit of " +
                    std::to_string(size_limit_) + " bytes. (#5.3.4)\n",
                nullptr, true);
  std::string mail = "MAIL FROM:<" + quote_address(env_.sender) + ">";
  if (size_offered_ && env_.size >= 0) mail += " SIZE=" + std::to_string(env_.size);
  send(mail);
  if (pipelining_)
    for (const auto& rc : env_.recipients)
      if (wire_safe_address(rc)) send("RCPT TO:<" + quote_address(rc) + ">");
  enter(State::mail);
}

void Client::body(std::string_view chunk) {
  if (state_ != State::body || chunk.empty()) return;
  encoder_.feed(chunk, out_);
  last_byte_ = chunk.back();
}

void Client::body_end() {
  if (state_ != State::body) return;
  if (last_byte_ != '\n') {
    // [COMPAT] qmail refuses a message whose last line has no LF, and
    // leaves without QUIT so the server discards the unfinished DATA.
    out_.clear();
    reports_ += "DSMTP cannot transfer messages with partial final lines. (#5.6.2)\n";
    reports_ += '\0';
    return enter(State::done);
  }
  encoder_.finish(out_);
  critical_ = true;
  enter(State::dot);
}

void Client::body_error() {
  if (state_ == State::done) return;
  out_.clear();
  reports_ += "ZUnable to read message. (#4.3.0)\n";
  reports_ += '\0';
  enter(State::done);
}

}  // namespace smtp
