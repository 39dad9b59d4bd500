// Recipient rewriting (see rewrite.h).
#include "queue/rewrite.h"

#include "reactor/control.h"

namespace queue {

Routed rewrite_recipient(const Controls& c, const std::string& recipient) {
  std::string addr = recipient;
  size_t at = addr.rfind('@');
  if (at == std::string::npos) {
    addr += '@';
    addr += c.envnoathost;
    at = addr.rfind('@');
  }
  // percenthack: while the domain is listed, turn the last % into the @.
  while (c.percenthack.count(reactor::lowercase(addr.substr(at + 1)))) {
    size_t pct = addr.rfind('%', at == 0 ? std::string::npos : at - 1);
    if (pct == std::string::npos || pct >= at) break;
    addr.resize(at);
    addr[pct] = '@';
    at = pct;
  }
  at = addr.rfind('@');
  if (c.is_local(addr.substr(at + 1))) return {addr, kLocal};

  // virtualdomains: whole address, the domain, its dot-suffixes longest
  // first, then the empty key (qmail-send.c walks the same positions).
  for (size_t i = 0; i <= addr.size(); ++i) {
    bool candidate = i == 0 || i == at + 1 || i == addr.size() || (i > at && addr[i] == '.');
    if (!candidate) continue;
    const std::string* v = c.vdom(addr.substr(i));
    if (!v) continue;
    if (v->empty()) break;  // "domain:" is an exception: stays remote
    return {*v + "-" + addr, kLocal};
  }
  return {addr, kRemote};
}

std::string strip_vdom_prefix(const Controls& c, const std::string& recipient) {
  size_t at = recipient.rfind('@');
  if (at == std::string::npos) return recipient;
  std::string domain = recipient.substr(at + 1);
  for (size_t i = 0; i <= domain.size(); ++i) {
    if (!(i == 0 || i == domain.size() || domain[i] == '.')) continue;
    const std::string* v = c.vdom(domain.substr(i));
    if (!v) continue;
    // qmail compares the prefix case-sensitively.
    if (v->empty() || recipient.compare(0, v->size(), *v) != 0 || recipient.size() <= v->size() ||
        recipient[v->size()] != '-')
      break;
    return recipient.substr(v->size() + 1);
  }
  return recipient;
}

}  // namespace queue
