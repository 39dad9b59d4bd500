// The real SmtpdPolicy (see smtpd_policy.h).
#include "smtp/smtpd_policy.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

namespace smtp {

reactor::Result<std::set<std::string>> local_ipv4_addresses() {
  std::set<std::string> ips{"127.0.0.1"};
  struct ifaddrs* ifa = nullptr;
  if (::getifaddrs(&ifa) != 0) return reactor::temp_error("unable to figure out my IP addresses");
  for (auto* p = ifa; p; p = p->ifa_next) {
    if (!p->ifa_addr || p->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    auto* sin = reinterpret_cast<struct sockaddr_in*>(p->ifa_addr);
    if (::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) ips.insert(buf);
  }
  ::freeifaddrs(ifa);
  return ips;
}

reactor::Result<unsigned long> QueuePolicy::queue_open() {
  qq_ = std::make_unique<queue::QueueClient>();
  reactor::Status st = qq_->start();
  if (!st) {
    qq_.reset();
    return st.error();
  }
  return static_cast<unsigned long>(qq_->pid());
}

void QueuePolicy::queue_put(std::string_view bytes) {
  if (qq_) qq_->put(bytes);
}

reactor::Status QueuePolicy::queue_finish(const std::string& from, const std::vector<std::string>& to) {
  if (!qq_) return reactor::temp_error("qq not started (#4.3.0)");
  qq_->from(from);
  for (const auto& t : to) qq_->to(t);
  reactor::Status r = qq_->finish();
  qq_.reset();
  return r;
}

std::time_t QueuePolicy::now() { return std::time(nullptr); }

}  // namespace smtp
