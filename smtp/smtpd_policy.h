#pragma once
// The real world behind SmtpdPolicy: rcpthosts, this host's IPv4 addresses
// (qmail's ipme), qmail-queue through queue::QueueClient, and the clock.

#include <memory>
#include <set>
#include <string>

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

 private:
  RcptHosts& rcpthosts_;
  std::set<std::string> my_ips_;
  std::unique_ptr<queue::QueueClient> qq_;
};

}  // namespace smtp
