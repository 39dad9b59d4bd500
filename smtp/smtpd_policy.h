#pragma once
// The real world behind SmtpdPolicy: rcpthosts, this host's IPv4 addresses
// (qmail's ipme), qmail-queue through queue::QueueClient, and the clock.

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "queue/qq.h"
#include "smtp/rcpthosts.h"
#include "smtp/smtpd.h"

namespace smtp {

/// This host's addresses, IPv4 and IPv6 (getifaddrs plus 127.0.0.1), for
/// `box@[ip]` rewriting; Error if unknown.
reactor::Result<std::set<std::string>> local_ip_addresses();

/// SmtpdPolicy over the real queue and control files.
class QueuePolicy : public SmtpdPolicy {
 public:
  QueuePolicy(RcptHosts& rcpthosts, std::set<std::string> my_ips)
      : rcpthosts_(rcpthosts), my_ips_(std::move(my_ips)) {}
  bool rcpt_allowed(std::string_view addr) override { return rcpthosts_.allowed(addr); }
  bool is_my_ip(std::string_view ip) override { return my_ips_.count(std::string(ip)) > 0; }
  reactor::Result<unsigned long> queue_open() override;
  void queue_put(std::string_view bytes) override;
  reactor::Status queue_finish(const std::string& from, const std::vector<std::string>& to) override;
  void queue_abort() override { qq_.reset(); }
  std::time_t now() override;
  AuthVerdict auth_check(const std::string& user, const std::string& secret, const std::string& challenge) override;
  void authenticated(const std::string& user, std::string_view method) override;
  void log(std::string_view text) override;
  unsigned long pid() override;

  /// The checkpassword command line (argv) AUTH runs, and the log's prefix.
  void set_checkpassword(std::vector<std::string> argv) { checkpassword_ = std::move(argv); }
  void set_log_name(std::string name) { log_name_ = std::move(name); }
  /// Seconds a checkpassword may run before it is killed (a temporary failure).
  void set_auth_timeout(int seconds) { auth_timeout_ = seconds; }

 private:
  RcptHosts& rcpthosts_;
  std::set<std::string> my_ips_;
  std::unique_ptr<queue::QueueClient> qq_;
  std::vector<std::string> checkpassword_;
  std::string log_name_ = "qmail-smtpd";
  int auth_timeout_ = 60;
  bool set_relayclient_ = false;
};

}  // namespace smtp
