// The real SmtpdPolicy (see smtpd_policy.h).
#include "smtp/smtpd_policy.h"

#include "smtp/route.h"

namespace smtp {

reactor::Result<std::set<std::string>> local_ip_addresses() {
  auto ifs = interface_addresses();
  if (!ifs) return ifs.error();
  std::set<std::string> ips{"127.0.0.1"};
  ips.insert(ifs->begin(), ifs->end());
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
