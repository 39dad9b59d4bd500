// qmail-popup's authorization state (see popup.h). Reply texts are qmail's.
#include "pop3/popup.h"

#include "pop3/command.h"

namespace pop3 {

namespace {
PopupAction reply(std::string text) { PopupAction a; a.reply = std::move(text); return a; }
std::string err(std::string_view text) { return "-ERR " + std::string(text) + "\r\n"; }
}  // namespace

Popup::Popup(std::string hostname, long pid, int64_t now, bool capa, PopupTls tls)
    : stamp_("<" + std::to_string(pid) + "." + std::to_string(now) + "@" + hostname + ">"),
      capa_(capa), tls_(tls) {}

void Popup::tls_started() {
  tls_.active = true;
  user_.clear();
  seen_user_ = false;
}

std::string Popup::capabilities() const {
  std::string s = "+OK capability list follows\r\nTOP\r\nUIDL\r\n";
  if (login_allowed()) s += "USER\r\n";
  if (tls_.available && !tls_.active) s += "STLS\r\n";
  s += "PIPELINING\r\nIMPLEMENTATION evqmail\r\n.\r\n";
  return s;
}

PopupAction Popup::command(std::string_view line) {
  Command c = parse_command(line);
  if (c.verb == "stls") {
    if (tls_.active) return reply(err("TLS already active"));
    if (!tls_.available) return reply(err("TLS not available"));
    if (!c.arg.empty()) return reply(err("syntax error"));
    PopupAction a = reply("+OK begin TLS negotiation\r\n");
    a.start_tls = true;
    return a;
  }
  if ((c.verb == "user" || c.verb == "pass" || c.verb == "apop") && !login_allowed()) {
    return reply(err("TLS required: use STLS first"));
  }
  if (c.verb == "user") {
    if (c.arg.empty()) return reply(err("syntax error"));
    user_ = std::string(c.arg);
    seen_user_ = true;
    return reply("+OK \r\n");
  }
  if (c.verb == "pass") {
    if (!seen_user_) return reply(err("USER first"));
    if (c.arg.empty()) return reply(err("syntax error"));
    PopupAction a;
    a.authenticate = true;
    a.user = user_;
    a.pass = std::string(c.arg);
    return a;
  }
  if (c.verb == "apop") {
    // "APOP name digest": the digest travels in the password slot.
    size_t sp = c.arg.find(' ');
    if (sp == std::string_view::npos) return reply(err("syntax error"));
    PopupAction a;
    a.authenticate = true;
    a.user = std::string(c.arg.substr(0, sp));
    a.pass = std::string(c.arg.substr(sp + 1));
    return a;
  }
  if (c.verb == "quit") {
    PopupAction a = reply("+OK \r\n");
    a.quit = true;
    return a;
  }
  if (c.verb == "noop") return reply("+OK \r\n");
  if (c.verb == "capa" && capa_) {
    return reply(capabilities());
  }
  return reply(err("authorization first"));
}

std::string checkpassword_input(std::string_view user, std::string_view pass,
                                std::string_view timestamp) {
  std::string s;
  s.reserve(user.size() + pass.size() + timestamp.size() + 3);
  s.append(user).push_back('\0');
  s.append(pass).push_back('\0');
  s.append(timestamp).push_back('\0');
  return s;
}

}  // namespace pop3
