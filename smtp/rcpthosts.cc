// rcpthosts and morercpthosts.cdb lookups (see rcpthosts.h).
#include "smtp/rcpthosts.h"

#include "reactor/control.h"

namespace smtp {

reactor::Status RcptHosts::load(const std::string& dir) {
  auto list = reactor::control_list(dir + "/rcpthosts");
  if (!list) return list.error();
  if (!*list) {  // qmail: no rcpthosts file, no check at all (fail-open, spec 4.1)
    have_ = false;
    hosts_.clear();
    more_.reset();
    return {};
  }
  return set(**list, dir + "/morercpthosts.cdb");
}

reactor::Status RcptHosts::set(const std::vector<std::string>& entries, const std::string& more) {
  have_ = true;
  hosts_.clear();
  for (const auto& e : entries) hosts_.insert(reactor::lowercase(e));
  more_.reset();
  if (!more.empty()) {
    auto r = std::make_unique<reactor::CdbReader>();
    reactor::Status st = r->open(more);
    if (st) more_ = std::move(r);
    else if (st.error().temporary) return st;  // missing is fine, unreadable is not
  }
  return {};
}

bool RcptHosts::allowed(std::string_view addr) {
  if (!have_) return true;
  size_t at = addr.rfind('@');
  if (at == std::string_view::npos) return true;  // qmail-send appends envnoathost
  std::string host = reactor::lowercase(addr.substr(at + 1));
  // The whole domain, then every suffix starting at a dot: ".example.com"
  // entries match subdomains only.
  for (size_t j = 0; j < host.size(); ++j)
    if (j == 0 || host[j] == '.')
      if (hosts_.count(host.substr(j))) return true;
  if (more_)
    for (size_t j = 0; j < host.size(); ++j)
      if (j == 0 || host[j] == '.')
        if (more_->find(std::string_view(host).substr(j))) return true;
  return false;
}

}  // namespace smtp
