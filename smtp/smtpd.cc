// The SMTP server state machine (see smtpd.h). Reply texts are qmail-smtpd's.
#include "smtp/smtpd.h"

#include <cstdlib>
#include <cstring>

#include "queue/date822.h"
#include "reactor/control.h"
#include "smtp/sasl.h"

namespace smtp {

namespace {
constexpr int kMaxHops = 100;
constexpr size_t kMaxAddress = 900;  // qmail: addr.len (with its NUL) > 900 is a syntax error
constexpr size_t kMaxAuthInput = 512;  // what a checkpassword reads from fd 3
constexpr double kMaxFailDelay = 60;

struct Command {
  const char* verb;
  void (Smtpd::*fn)(std::string_view);
};
}  // namespace

void parse_auth_env(SmtpdAuth& a, bool have_checkpassword, const char* smtpauth, const char* forcetls,
                    const char* faildelay) {
  a.configured = have_checkpassword;
  a.offered = have_checkpassword;
  if (smtpauth) {
    // The values of the qmail-authentication patch: "-" or "0" off, "!"
    // required, "cram" CRAM-MD5 only, "+cram" CRAM-MD5 as well, "!cram"
    // and "!+cram" both; anything else offers LOGIN and PLAIN.
    std::string v = reactor::lowercase(smtpauth);
    if (v == "-" || v == "0") a.offered = false;
    if (!v.empty() && v[0] == '!') {
      a.required = true;
      v.erase(0, 1);
    }
    if (v.rfind("cram", 0) == 0) {
      a.cram = true;
      a.login_plain = false;
    } else if (v.rfind("+cram", 0) == 0) {
      a.cram = true;
    }
  }
  if (forcetls && std::string_view(forcetls) == "0") a.force_tls = false;
  if (faildelay) {
    char* end = nullptr;
    double d = std::strtod(faildelay, &end);
    if (*faildelay && *end == '\0' && d >= 0) a.fail_delay = d < kMaxFailDelay ? d : kMaxFailDelay;
  }
}

const char* to_string(Smtpd::State s) {
  switch (s) {
    case Smtpd::State::command: return "command";
    case Smtpd::State::data: return "data";
    case Smtpd::State::closed: return "closed";
  }
  return "?";
}

Smtpd::Smtpd(SmtpdConfig cfg, SmtpdPolicy& policy) : cfg_(std::move(cfg)), policy_(policy) {}

void Smtpd::start() {
  out("220 " + cfg_.greeting + " ESMTP\r\n");
}

std::string Smtpd::take_output() {
  std::string o;
  o.swap(out_);
  return o;
}

void Smtpd::close() {
  state_ = State::closed;
  line_.clear();
}

void Smtpd::eof() {
  if (state_ == State::data) policy_.queue_abort();
  close();
}

void Smtpd::timeout() {
  if (state_ == State::closed) return;
  if (state_ == State::data) policy_.queue_abort();
  out("451 timeout (#4.4.2)\r\n");
  close();
}

void Smtpd::feed(std::string_view in) {
  // After STARTTLS nothing more is read in plaintext: whatever the client
  // pipelined behind it is dropped, never run (the injection of CVE-2011-0411).
  while (!in.empty() && state_ != State::closed && !tls_wanted_) {
    if (state_ == State::data) {
      data_bytes(in);
      continue;
    }
    // Command lines end in LF (one CR before it is dropped later). A line
    // over the cap is discarded up to its LF and answered once, so the
    // buffer never grows past max_line whatever the client sends.
    size_t nl = in.find('\n');
    std::string_view part = in.substr(0, nl == std::string_view::npos ? in.size() : nl);
    if (!skipping_) {
      if (line_.size() + part.size() > cfg_.max_line + 1) {
        skipping_ = true;
        skipped_ = line_.size() + part.size();
        line_.clear();
      } else {
        line_.append(part);
      }
    } else {
      skipped_ += part.size();
    }
    // [WEAKNESS] qmail reads an endless line for as long as the client
    // sends it. Past max_skip without a LF the session ends.
    if (skipping_ && auth_step_ != AuthStep::none) auth_reset();
    if (skipping_ && skipped_ > cfg_.max_skip) {
      out("500 5.5.2 line too long\r\n");
      return close();
    }
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
    std::string l;
    l.swap(line_);
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (skipping_ || l.size() > cfg_.max_line) {
      skipping_ = false;
      out("500 5.5.2 line too long\r\n");
      continue;
    }
    line(l);
  }
}

void Smtpd::line(std::string_view l) {
  // qmail would silently cut the line at a NUL; refusing is clearer.
  if (l.find('\0') != std::string_view::npos) {
    if (auth_step_ != AuthStep::none) auth_reset();
    out("500 5.5.2 NUL character in command line\r\n");
    return;
  }
  if (auth_step_ != AuthStep::none) return auth_line(l);
  size_t sp = l.find(' ');
  std::string verb = reactor::lowercase(l.substr(0, sp));
  std::string_view arg = sp == std::string_view::npos ? std::string_view() : l.substr(sp);
  while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  static const Command kCommands[] = {
      {"rcpt", &Smtpd::cmd_rcpt}, {"mail", &Smtpd::cmd_mail}, {"data", &Smtpd::cmd_data},
      {"quit", &Smtpd::cmd_quit}, {"helo", &Smtpd::cmd_helo}, {"ehlo", &Smtpd::cmd_ehlo},
      {"rset", &Smtpd::cmd_rset}, {"help", &Smtpd::cmd_help}, {"noop", &Smtpd::cmd_noop},
      {"vrfy", &Smtpd::cmd_vrfy}, {"starttls", &Smtpd::cmd_starttls},
      {"auth", &Smtpd::cmd_auth},
  };
  for (const auto& c : kCommands)
    if (verb == c.verb) return (this->*c.fn)(arg);
  out("502 unimplemented (#5.5.1)\r\n");
}

// Parses an address as qmail does, then applies localiphost and the limits.
// On failure the reply is already written.
bool Smtpd::address(std::string_view arg, std::string& addr, std::string_view* rest) {
  ParsedAddress p = parse_address(arg);
  if (cfg_.localiphost) {
    size_t at = p.addr.rfind('@');
    std::string ip;
    if (at != std::string::npos && parse_address_literal(std::string_view(p.addr).substr(at + 1), ip) &&
        policy_.is_my_ip(ip))
      p.addr = p.addr.substr(0, at + 1) + *cfg_.localiphost;
  }
  if (p.addr.size() >= kMaxAddress) {
    out("555 syntax error (#5.5.4)\r\n");
    return false;
  }
  if (has_control_chars(p.addr)) {
    out("553 sorry, control characters are not allowed in addresses (#5.1.3)\r\n");
    return false;
  }
  addr = std::move(p.addr);
  if (rest) *rest = p.rest;
  return true;
}

void Smtpd::cmd_helo(std::string_view arg) {
  out("250 " + cfg_.greeting + "\r\n");
  seen_mail_ = false;
  helo_.reset();
  if (reactor::lowercase(arg) != reactor::lowercase(cfg_.peer.remotehost)) helo_ = std::string(arg);
}

void Smtpd::cmd_ehlo(std::string_view arg) {
  out("250-" + cfg_.greeting + "\r\n250-PIPELINING\r\n");
  if (cfg_.starttls && !tls_) out("250-STARTTLS\r\n");
  if (auth_offered_now()) {
    std::string mechs;
    if (cfg_.auth.login_plain) mechs = "LOGIN PLAIN";
    if (cfg_.auth.cram) mechs += mechs.empty() ? "CRAM-MD5" : " CRAM-MD5";
    out("250-AUTH " + mechs + "\r\n");
  }
  if (cfg_.databytes) out("250-8BITMIME\r\n250 SIZE " + std::to_string(cfg_.databytes) + "\r\n");
  else out("250 8BITMIME\r\n");
  seen_mail_ = false;
  helo_.reset();
  if (reactor::lowercase(arg) != reactor::lowercase(cfg_.peer.remotehost)) helo_ = std::string(arg);
}

void Smtpd::cmd_mail(std::string_view arg) {
  // The submission service ($SMTPAUTH "!"): no mail without AUTH.
  if (cfg_.auth.required && !authed_) return out("530 Authorization required (#5.7.1)\r\n");
  std::string addr;
  std::string_view rest;
  if (!address(arg, addr, &rest)) return;
  // RFC 1870: a declared size over databytes is refused before any data.
  if (cfg_.databytes) {
    if (auto size = esmtp_param(rest, "SIZE")) {
      char* end = nullptr;
      unsigned long long n = std::strtoull(size->c_str(), &end, 10);
      if (!size->empty() && *end == '\0' && n > cfg_.databytes) {
        out("552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n");
        return;
      }
    }
  }
  barf_ = badmailfrom_match(cfg_.badmailfrom, addr);
  seen_mail_ = true;
  rcpts_.clear();
  mailfrom_ = std::move(addr);
  out("250 ok\r\n");
}

void Smtpd::cmd_rcpt(std::string_view arg) {
  if (!seen_mail_) return out("503 MAIL first (#5.5.1)\r\n");
  std::string addr;
  if (!address(arg, addr, nullptr)) return;
  if (barf_) return out("553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)\r\n");
  if (rcpts_.size() >= cfg_.max_rcpts) return out("452 too many recipients (#4.5.3)\r\n");
  if (cfg_.relayclient) {
    addr += *cfg_.relayclient;  // FAQ 5.5: RELAYCLIENT="@fixme"
  } else if (!policy_.rcpt_allowed(addr)) {
    return out("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n");
  }
  rcpts_.push_back(std::move(addr));
  out("250 ok\r\n");
}

void Smtpd::cmd_data(std::string_view) {
  if (!seen_mail_) return out("503 MAIL first (#5.5.1)\r\n");
  if (rcpts_.empty()) return out("503 RCPT first (#5.5.1)\r\n");
  seen_mail_ = false;  // the transaction ends here, whatever happens
  auto qp = policy_.queue_open();
  if (!qp) return out("451 qqt failure (#4.3.0)\r\n");
  qp_ = *qp;
  out("354 go ahead\r\n");
  decoder_ = DataDecoder();
  data_count_ = 0;
  too_big_ = false;
  state_ = State::data;
  policy_.queue_put(received_line(protocol_, cfg_.peer, helo_, queue::date822_utc(policy_.now())));
}

void Smtpd::data_bytes(std::string_view& in) {
  size_t used = 0;
  chunk_.clear();
  DataDecoder::Status st = decoder_.feed(in, chunk_, used);
  in.remove_prefix(used);
  // databytes counts decoded bytes; past the limit the rest is read and dropped.
  if (!too_big_ && !chunk_.empty()) {
    if (cfg_.databytes && data_count_ + chunk_.size() > cfg_.databytes) {
      too_big_ = true;
    } else {
      data_count_ += chunk_.size();
      policy_.queue_put(chunk_);
    }
  }
  if (st != DataDecoder::Status::more) data_end(st);
}

void Smtpd::data_end(DataDecoder::Status st) {
  if (st == DataDecoder::Status::bare_lf || st == DataDecoder::Status::bare_cr) {
    // qmail's straynewline(): the session ends, nothing is queued.
    policy_.queue_abort();
    out("451 See https://cr.yp.to/docs/smtplf.html.\r\n");
    return close();
  }
  state_ = State::command;
  if (decoder_.hops() >= kMaxHops) {
    policy_.queue_abort();
    return out("554 too many hops, this message is looping (#5.4.6)\r\n");
  }
  if (too_big_) {
    policy_.queue_abort();
    return out("552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n");
  }
  reactor::Status r = policy_.queue_finish(mailfrom_, rcpts_);
  if (r) {
    out("250 ok " + std::to_string(static_cast<unsigned long>(policy_.now())) + " qp " +
        std::to_string(qp_) + "\r\n");
  } else {
    out((r.error().temporary ? "451 " : "554 ") + r.error().text + "\r\n");
  }
}

void Smtpd::cmd_rset(std::string_view) {
  seen_mail_ = false;
  out("250 flushed\r\n");
}

void Smtpd::cmd_quit(std::string_view) {
  out("221 " + cfg_.greeting + "\r\n");
  quit_ = true;
  close();
}

// STARTTLS as the qmail-tls patch answers it (RFC 3207).
void Smtpd::cmd_starttls(std::string_view arg) {
  if (!cfg_.starttls || tls_) return out("502 unimplemented (#5.5.1)\r\n");
  if (!arg.empty()) return out("501 Syntax error (no parameters allowed) (#5.5.4)\r\n");
  out("220 ready for tls\r\n");
  tls_wanted_ = true;
  line_.clear();
  skipping_ = false;
}

void Smtpd::tls_started(std::string_view cipher) {
  // Everything learnt before the handshake is forgotten (RFC 3207 4.2),
  // an AUTH given in plaintext (FORCETLS=0) as well.
  tls_wanted_ = false;
  tls_ = true;
  cipher_ = std::string(cipher);
  protocol_ = "ESMTPS (" + cipher_ + " encrypted)";
  if (authed_) {
    authed_ = false;
    cfg_.relayclient = relayclient_before_auth_;
    cfg_.peer.remoteinfo = remoteinfo_before_auth_;
    policy_.authenticated("", "");
  }
  helo_.reset();
  seen_mail_ = false;
  rcpts_.clear();
  line_.clear();
  skipping_ = false;
}

bool Smtpd::auth_offered_now() const { return cfg_.auth.offered && (tls_ || !cfg_.auth.force_tls); }

void Smtpd::auth_reset() {
  auth_step_ = AuthStep::none;
  ::explicit_bzero(auth_user_.data(), auth_user_.size());
  auth_user_.clear();
  auth_chal_.clear();
}

// AUTH as the smtp-auth patches answer it (RFC 4954), over a checkpassword.
void Smtpd::cmd_auth(std::string_view arg) {
  if (!cfg_.auth.configured) return out("502 unimplemented (#5.5.1)\r\n");
  if (!cfg_.auth.offered) return out("503 auth not available (#5.3.3)\r\n");
  if (authed_) return out("503 you're already authenticated (#5.5.0)\r\n");
  if (seen_mail_) return out("503 no auth during mail transaction (#5.5.0)\r\n");
  if (cfg_.auth.force_tls && !tls_) return out("538 auth not available without TLS (#5.3.3)\r\n");
  size_t sp = arg.find(' ');
  std::string mech = reactor::lowercase(arg.substr(0, sp));
  std::string_view initial = sp == std::string_view::npos ? std::string_view() : arg.substr(sp + 1);
  while (!initial.empty() && initial.front() == ' ') initial.remove_prefix(1);
  bool has_initial = sp != std::string_view::npos && !initial.empty();
  if (mech == "login" && cfg_.auth.login_plain) {
    if (!has_initial) {
      auth_step_ = AuthStep::login_user;
      return out("334 VXNlcm5hbWU6\r\n");  // "Username:"
    }
    auto user = sasl::base64_decode(initial);
    if (!user) return out("501 malformed auth input (#5.5.4)\r\n");
    auth_user_ = std::move(*user);
    auth_step_ = AuthStep::login_pass;
    return out("334 UGFzc3dvcmQ6\r\n");  // "Password:"
  }
  if (mech == "plain" && cfg_.auth.login_plain) {
    if (!has_initial) {
      auth_step_ = AuthStep::plain;
      return out("334 \r\n");
    }
    auto msg = sasl::base64_decode(initial);
    auto cred = msg ? sasl::parse_plain(*msg) : std::nullopt;
    if (msg) ::explicit_bzero(msg->data(), msg->size());
    if (!cred) return out("501 malformed auth input (#5.5.4)\r\n");
    return auth_try("plain", std::move(cred->user), std::move(cred->secret), "");
  }
  if (mech == "cram-md5" && cfg_.auth.cram) {
    if (has_initial) return out("501 malformed auth input (#5.5.4)\r\n");
    auth_chal_ = "<" + std::to_string(policy_.pid()) + "." + std::to_string(static_cast<unsigned long>(policy_.now())) +
                 "@" + cfg_.auth.cram_host + ">";
    auth_step_ = AuthStep::cram;
    return out("334 " + sasl::base64_encode(auth_chal_) + "\r\n");
  }
  out("504 auth type unimplemented (#5.5.1)\r\n");
}

void Smtpd::auth_line(std::string_view l) {
  AuthStep step = auth_step_;
  if (l == "*") {
    auth_reset();
    return out("501 auth exchange canceled (#5.0.0)\r\n");
  }
  auto msg = sasl::base64_decode(l);
  if (!msg) {
    auth_reset();
    return out("501 malformed auth input (#5.5.4)\r\n");
  }
  switch (step) {
    case AuthStep::login_user:
      auth_user_ = std::move(*msg);
      auth_step_ = AuthStep::login_pass;
      return out("334 UGFzc3dvcmQ6\r\n");
    case AuthStep::login_pass: {
      std::string user = std::move(auth_user_);
      auth_reset();
      return auth_try("login", std::move(user), std::move(*msg), "");
    }
    case AuthStep::plain: {
      auth_reset();
      auto cred = sasl::parse_plain(*msg);
      ::explicit_bzero(msg->data(), msg->size());
      if (!cred) return out("501 malformed auth input (#5.5.4)\r\n");
      return auth_try("plain", std::move(cred->user), std::move(cred->secret), "");
    }
    case AuthStep::cram: {
      std::string chal = auth_chal_;
      auth_reset();
      auto cred = sasl::parse_cram(*msg);
      if (!cred) return out("501 malformed auth input (#5.5.4)\r\n");
      return auth_try("cram-md5", std::move(cred->user), std::move(cred->secret), chal);
    }
    case AuthStep::none: break;
  }
}

void Smtpd::auth_try(std::string_view method, std::string user, std::string secret, const std::string& challenge) {
  // A name with control characters would reach the log, the Received line
  // and qmail-queue's environment: refused like any malformed input.
  bool bad = user.empty() || secret.empty() || has_control_chars(user) ||
             user.size() + secret.size() + challenge.size() + 3 > kMaxAuthInput ||
             user.find('\0') != std::string::npos || secret.find('\0') != std::string::npos;
  if (bad) {
    ::explicit_bzero(secret.data(), secret.size());
    return out("501 malformed auth input (#5.5.4)\r\n");
  }
  AuthVerdict v = policy_.auth_check(user, secret, challenge);
  ::explicit_bzero(secret.data(), secret.size());
  std::string what = "type=" + std::string(method) + " user=<" + user + ">";
  if (v == AuthVerdict::ok) {
    authed_ = true;
    relayclient_before_auth_ = cfg_.relayclient;
    remoteinfo_before_auth_ = cfg_.peer.remoteinfo;
    protocol_ = tls_ ? "ESMTPSA (" + cipher_ + " encrypted, authenticated)" : "ESMTPA";
    if (!cfg_.relayclient) cfg_.relayclient = "";  // relaying as RELAYCLIENT="" allows it
    cfg_.peer.remoteinfo = user;
    policy_.authenticated(user, method);
    policy_.log("auth: auth-success " + what);
    return out("235 ok, go ahead (#2.0.0)\r\n");
  }
  if (v == AuthVerdict::temporary) {
    policy_.log("auth: auth-error " + what);
    return out("454 oops, problem with child and I can't auth (#4.3.0)\r\n");
  }
  ++auth_failures_;
  delay_ += cfg_.auth.fail_delay;
  policy_.log("auth: auth-failed " + what);
  out("535 authentication failed (#5.7.1)\r\n");
  if (auth_failures_ >= cfg_.auth.max_failures) {
    out("421 too many failed authentications, closing connection (#4.7.0)\r\n");
    close();
  }
}

void Smtpd::cmd_help(std::string_view) { out("214 evqmail, a qmail-compatible MTA: see qmail-smtpd(8)\r\n"); }
void Smtpd::cmd_noop(std::string_view) { out("250 ok\r\n"); }
void Smtpd::cmd_vrfy(std::string_view) { out("252 send some mail, i'll try my best\r\n"); }

}  // namespace smtp
