// qmail-local's environment and header lines (see local_env.h).
#include "spawn/local_env.h"

#include <cstdio>

#include "queue/rfc822.h"

namespace spawn {

namespace {

void newlines_to_underscores(std::string& s) {
  for (char& c : s)
    if (c == '\n') c = '_';
}

}  // namespace

std::string quote_address(std::string_view addr) {
  // qmail's quote2: the local part is quoted when RFC 822 requires it.
  return queue::rfc822::quote2(addr);
}

std::string dt_line(std::string_view local, std::string_view host) {
  std::string s = "Delivered-To: " + std::string(local) + "@" + std::string(host);
  newlines_to_underscores(s);
  return s + "\n";
}

std::string rp_line(std::string_view sender) {
  std::string s = "Return-Path: <" + quote_address(sender);
  newlines_to_underscores(s);
  return s + ">\n";
}

std::string uf_line(std::string_view sender, std::time_t now) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::string s = "From ";
  if (sender.empty()) {
    s += "MAILER-DAEMON";
  } else {
    for (char c : sender) s += (c == ' ' || c == '\t' || c == '\n') ? '-' : c;
  }
  struct tm tm;
  gmtime_r(&now, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, " %s %s %02d %02d:%02d:%02d %d\n", kDays[tm.tm_wday % 7],
                kMonths[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
  return s + buf;
}

std::string ext_n(std::string_view ext, int n) {
  for (int i = 1; i < n; ++i) {
    size_t dash = ext.find('-');
    ext = dash == std::string_view::npos ? std::string_view() : ext.substr(dash + 1);
  }
  return std::string(ext);
}

std::string host_n(std::string_view host, int n) {
  for (int i = 1; i < n; ++i) {
    size_t dot = host.rfind('.');
    if (dot != std::string_view::npos) host = host.substr(0, dot);
  }
  return std::string(host);
}

std::string new_sender(std::string_view local, std::string_view host, std::string_view sender,
                       bool owner_exists, bool owner_default_exists) {
  if (sender.empty() || sender == "#@[]" || !owner_exists) return std::string(sender);
  if (owner_default_exists) return std::string(local) + "-owner-@" + std::string(host) + "-@[]";
  return std::string(local) + "-owner@" + std::string(host);
}

std::vector<std::pair<std::string, std::string>> local_env(const LocalArgs& a, std::string_view newsender,
                                                            std::time_t now) {
  return {
      {"HOST", a.host},
      {"HOME", a.homedir},
      {"USER", a.user},
      {"LOCAL", a.local},
      {"RECIPIENT", a.local + "@" + a.host},
      {"DTLINE", dt_line(a.local, a.host)},
      {"SENDER", a.sender},
      {"RPLINE", rp_line(a.sender)},
      {"UFLINE", uf_line(a.sender, now)},
      {"EXT", a.ext},
      {"EXT2", ext_n(a.ext, 2)},
      {"EXT3", ext_n(a.ext, 3)},
      {"EXT4", ext_n(a.ext, 4)},
      {"HOST2", host_n(a.host, 2)},
      {"HOST3", host_n(a.host, 3)},
      {"HOST4", host_n(a.host, 4)},
      {"NEWSENDER", std::string(newsender)},
  };
}

}  // namespace spawn
