// The SMTP server state machine (see smtpd.h). Reply texts are qmail-smtpd's.
#include "smtp/smtpd.h"

#include <cstdlib>

#include "queue/date822.h"
#include "reactor/control.h"

namespace smtp {

namespace {
constexpr int kMaxHops = 100;
constexpr size_t kMaxAddress = 900;  // qmail: addr.len (with its NUL) > 900 is a syntax error

struct Command {
  const char* verb;
  void (Smtpd::*fn)(std::string_view);
};
}  // namespace

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
    out("500 5.5.2 NUL character in command line\r\n");
    return;
  }
  size_t sp = l.find(' ');
  std::string verb = reactor::lowercase(l.substr(0, sp));
  std::string_view arg = sp == std::string_view::npos ? std::string_view() : l.substr(sp);
  while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  static const Command kCommands[] = {
      {"rcpt", &Smtpd::cmd_rcpt}, {"mail", &Smtpd::cmd_mail}, {"data", &Smtpd::cmd_data},
      {"quit", &Smtpd::cmd_quit}, {"helo", &Smtpd::cmd_helo}, {"ehlo", &Smtpd::cmd_ehlo},
      {"rset", &Smtpd::cmd_rset}, {"help", &Smtpd::cmd_help}, {"noop", &Smtpd::cmd_noop},
      {"vrfy", &Smtpd::cmd_vrfy}, {"starttls", &Smtpd::cmd_starttls},
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
  if (cfg_.databytes) out("250-8BITMIME\r\n250 SIZE " + std::to_string(cfg_.databytes) + "\r\n");
  else out("250 8BITMIME\r\n");
  seen_mail_ = false;
  helo_.reset();
  if (reactor::lowercase(arg) != reactor::lowercase(cfg_.peer.remotehost)) helo_ = std::string(arg);
}

void Smtpd::cmd_mail(std::string_view arg) {
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
  // Everything learnt before the handshake is forgotten (RFC 3207 4.2).
  tls_wanted_ = false;
  tls_ = true;
  protocol_ = "ESMTPS (" + std::string(cipher) + " encrypted)";
  helo_.reset();
  seen_mail_ = false;
  rcpts_.clear();
  line_.clear();
  skipping_ = false;
}

void Smtpd::cmd_help(std::string_view) { out("214 evqmail, a qmail-compatible MTA: see qmail-smtpd(8)\r\n"); }
void Smtpd::cmd_noop(std::string_view) { out("250 ok\r\n"); }
void Smtpd::cmd_vrfy(std::string_view) { out("252 send some mail, i'll try my best\r\n"); }

}  // namespace smtp
