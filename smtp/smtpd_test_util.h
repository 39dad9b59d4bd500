#pragma once
// A fake SmtpdPolicy for the unit tests of qmail-smtpd and qmail-qmtpd: it
// records what would have gone to qmail-queue and answers from fixed tables.

#include <set>
#include <string>
#include <vector>

#include "smtp/smtpd.h"

namespace smtp::testing {

/// Records queue traffic; rcpthosts is a set of allowed domains (empty: all).
class FakePolicy : public SmtpdPolicy {
 public:
  std::set<std::string> allowed_domains;  ///< empty: everything allowed
  bool open_fails = false;
  reactor::Status finish_result;
  std::string message;                    ///< bytes of the current/last message
  std::string from;
  std::vector<std::string> to;
  int opened = 0, finished = 0, aborted = 0;

  bool rcpt_allowed(std::string_view addr) override {
    if (allowed_domains.empty()) return true;
    size_t at = addr.rfind('@');
    return at == std::string_view::npos || allowed_domains.count(std::string(addr.substr(at + 1)));
  }
  bool is_my_ip(std::string_view ip) override { return ip == "127.0.0.1" || ip == "192.0.2.1" || ip == "2001:db8::1"; }
  reactor::Result<unsigned long> queue_open() override {
    if (open_fails) return reactor::temp_error("unable to fork");
    ++opened;
    message.clear();
    return 4242ul;
  }
  void queue_put(std::string_view b) override { message.append(b); }
  reactor::Status queue_finish(const std::string& f, const std::vector<std::string>& t) override {
    ++finished;
    from = f;
    to = t;
    return finish_result;
  }
  void queue_abort() override { ++aborted; }
  std::time_t now() override { return 1605956160; }  // 21 Nov 2020 10:56:00 UTC

  // AUTH: accepts `good_user` with `good_secret`; `auth_temporary` fails all.
  std::string good_user = "alice", good_secret = "s3cret";
  bool auth_temporary = false;
  std::vector<std::string> checks;  ///< "user|secret|challenge" per call
  std::string authed_user, authed_method;
  std::vector<std::string> logs;
  AuthVerdict auth_check(const std::string& u, const std::string& p, const std::string& c) override {
    checks.push_back(u + "|" + p + "|" + c);
    if (auth_temporary) return AuthVerdict::temporary;
    return u == good_user && p == good_secret ? AuthVerdict::ok : AuthVerdict::rejected;
  }
  void authenticated(const std::string& u, std::string_view m) override {
    authed_user = u;
    authed_method = std::string(m);
  }
  void log(std::string_view t) override { logs.emplace_back(t); }
  unsigned long pid() override { return 777; }
};

}  // namespace smtp::testing
