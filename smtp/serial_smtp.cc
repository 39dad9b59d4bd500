#include "smtp/serial_smtp.h"

#include "queue/rfc822.h"

namespace smtp {

namespace {

bool equal_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

reactor::Error proto() { return reactor::temp_error("protocol violation"); }

}  // namespace

std::string last_reply_line(const Reply& r) {
  std::string s = std::to_string(r.code);
  if (!r.lines.empty() && !r.lines.back().empty()) {
    s += ' ';
    s += r.lines.back();
  }
  return s;
}

reactor::Result<Reply> SerialSmtp::next() {
  auto r = peer_.reply();
  if (!r) return r.error();
  if (r->code < 0) return proto();
  return r;
}

std::string SerialSmtp::report(std::string_view fn, const Reply& r) const {
  return serial_result(fn, status_for_code(r.code), remoteip_, last_reply_line(r));
}

reactor::Status SerialSmtp::greet() {
  auto g = next();
  if (!g) return g.error();
  if (g->code != 220) {
    quit();
    return reactor::temp_error("connected but greeting failed");
  }
  peer_.send("EHLO " + helohost_ + "\r\n");
  if (auto s = peer_.flush(); !s) return s;
  auto e = next();
  if (!e) return e.error();
  if (e->code == 250) {
    // serialsmtp pipelines only on an exact "PIPELINING" line after the first.
    for (size_t i = 1; i < e->lines.size(); ++i)
      if (equal_nocase(e->lines[i], "PIPELINING")) pipelining_ = true;
    return {};
  }
  peer_.send("HELO " + helohost_ + "\r\n");
  if (auto s = peer_.flush(); !s) return s;
  auto h = next();
  if (!h) return h.error();
  if (h->code != 250) {
    quit();
    return reactor::temp_error("connected but my name was rejected");
  }
  return {};
}

reactor::Result<std::optional<std::string>> SerialSmtp::deliver(std::string_view fn,
                                                                std::string_view file) {
  using Out = std::optional<std::string>;
  auto env = parse_serial_envelope(file);
  if (!env) return Out();
  auto rcpt = strip_prefix(env->recipient, prefix_);
  if (!rcpt) return Out();
  // [WEAKNESS] serialsmtp writes the addresses as they are; one that would
  // change the command line (a CR from Return-Path, say) fails for good.
  if (!wire_safe_address(env->sender) || !wire_safe_address(*rcpt))
    return Out(serial_result(fn, SerialStatus::kPermanent, nullptr,
                             "Sorry, an envelope address contains characters that SMTP cannot carry. (#5.1.3)"));
  // Addresses are taken as canonical; only the local part is quoted.
  std::string cmds;
  if (need_rset_) cmds += "RSET\r\n";
  std::string mail = "MAIL FROM:<" + queue::rfc822::quote2(env->sender) + ">\r\n";
  std::string rcpt_cmd = "RCPT TO:<" + queue::rfc822::quote2(*rcpt) + ">\r\n";
  const bool rset = need_rset_;
  need_rset_ = true;

  if (!pipelining_) {
    // One command, one reply.
    if (rset) {
      peer_.send("RSET\r\n");
      if (auto s = peer_.flush(); !s) return s.error();
      auto r = next();
      if (!r) return r.error();
      if (r->code >= 400) return proto();  // a refused RSET: nothing sane left
    }
    for (const std::string* c : {&mail, &rcpt_cmd}) {
      peer_.send(*c);
      if (auto s = peer_.flush(); !s) return s.error();
      auto r = next();
      if (!r) return r.error();
      if (r->code >= 400) return Out(report(fn, *r));
    }
    peer_.send("DATA\r\n");
    if (auto s = peer_.flush(); !s) return s.error();
  } else {
    // RFC 2920: the whole envelope and DATA in one write, replies in order.
    peer_.send(cmds + mail + rcpt_cmd + "DATA\r\n");
    if (auto s = peer_.flush(); !s) return s.error();
    if (rset) {
      auto r = next();
      if (!r) return r.error();
      if (r->code >= 400) return proto();
    }
    auto m = next();
    if (!m) return m.error();
    if (m->code >= 400) {
      // MAIL refused: RCPT and DATA must be refused too.
      for (int i = 0; i < 2; ++i) {
        auto r = next();
        if (!r) return r.error();
        if (r->code < 400) return proto();
      }
      return Out(report(fn, *m));
    }
    auto rc = next();
    if (!rc) return rc.error();
    if (rc->code >= 400) {
      auto r = next();
      if (!r) return r.error();
      if (r->code < 400) return proto();  // DATA accepted without a recipient
      return Out(report(fn, *rc));
    }
  }
  auto d = next();
  if (!d) return d.error();
  if (d->code >= 400) return Out(report(fn, *d));
  std::string data;
  DataEncoder enc;
  enc.feed(file.substr(env->header_bytes), data);
  enc.finish(data);
  peer_.send(data);
  if (auto s = peer_.flush(); !s) return s.error();
  auto f = next();
  if (!f) return f.error();
  return Out(report(fn, *f));
}

void SerialSmtp::quit() {
  peer_.send("QUIT\r\n");
  (void)peer_.flush();
}

}  // namespace smtp
