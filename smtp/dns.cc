// c-ares resolver on the libev loop (see dns.h).
#include "smtp/dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <netdb.h>

#include <cstdlib>
#include <optional>

#include "reactor/fd.h"

namespace smtp {

DnsStatus dns_status(int s) {
  switch (s) {
    case ARES_SUCCESS: return DnsStatus::ok;
    case ARES_ENOTFOUND: return DnsStatus::nxdomain;  // NXDOMAIN: the name does not exist
    case ARES_ENODATA: return DnsStatus::nodata;      // the name exists without such records
    default: return DnsStatus::temporary;             // SERVFAIL, timeouts, refused, ...
  }
}

struct Resolver::Impl {
  explicit Impl(reactor::Loop& l) : loop(l), timer(l, [this] { process(ARES_SOCKET_BAD, ARES_SOCKET_BAD); }) {}
  ~Impl() {
    if (channel) ares_destroy(channel);  // runs pending callbacks with ARES_EDESTRUCTION
  }
  reactor::Loop& loop;
  ares_channel channel = nullptr;
  std::map<int, std::unique_ptr<reactor::Io>> ios;
  reactor::Timer timer;

  static void sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<Impl*>(data);
    if (!readable && !writable) {
      self->ios.erase(fd);
      return;
    }
    auto& io = self->ios[fd];
    if (!io) io = std::make_unique<reactor::Io>(self->loop, [self, fd](int ev) {
      self->process(ev & EV_READ ? fd : ARES_SOCKET_BAD, ev & EV_WRITE ? fd : ARES_SOCKET_BAD);
    });
    io->start(fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
  }
  void process(ares_socket_t r, ares_socket_t w) {
    ares_process_fd(channel, r, w);
    rearm();
  }
  // c-ares keeps its own retry timers; ask it how long to sleep.
  void rearm() {
    timeval tv;
    timeval* t = ares_timeout(channel, nullptr, &tv);
    if (!t) return timer.stop();
    timer.start(static_cast<double>(t->tv_sec) + t->tv_usec / 1e6 + 0.001);
  }
};

bool printable_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  // c-ares writes a label's control and 8-bit bytes as \DDD, but hands a
  // blank over as it is.
  for (unsigned char c : name)
    if (c <= 0x20 || c >= 0x7f || c == '\\') return false;
  return true;
}

namespace {
// Notes the timeout:/attempts: words of one options list.
void scan_options(std::string_view words, ResolverDefaults& d) {
  size_t i = 0;
  while (i < words.size()) {
    while (i < words.size() && (words[i] == ' ' || words[i] == '\t')) ++i;
    size_t j = i;
    while (j < words.size() && words[j] != ' ' && words[j] != '\t') ++j;
    std::string_view w = words.substr(i, j - i);
    if (w.starts_with("timeout:")) d.timeout = false;
    if (w.starts_with("attempts:")) d.attempts = false;
    i = j;
  }
}
}  // namespace

ResolverDefaults resolver_defaults(std::string_view conf, std::string_view res_options) {
  ResolverDefaults d;
  size_t pos = 0;
  while (pos < conf.size()) {
    size_t nl = conf.find('\n', pos);
    std::string_view line = conf.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? conf.size() : nl + 1;
    while (!line.empty() && (line[0] == ' ' || line[0] == '\t')) line.remove_prefix(1);
    if (line.starts_with("options") && line.size() > 7 && (line[7] == ' ' || line[7] == '\t'))
      scan_options(line.substr(7), d);
  }
  scan_options(res_options, d);
  return d;
}

reactor::Result<std::unique_ptr<Resolver>> Resolver::create(reactor::Loop& loop, const char* servers) {
  static bool inited = ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS;
  if (!inited) return reactor::temp_error("c-ares init failed");
  auto impl = std::make_unique<Impl>(loop);
  ares_options opt{};
  opt.sock_state_cb = &Impl::sock_state;
  opt.sock_state_cb_data = impl.get();

  int mask = ARES_OPT_SOCK_STATE_CB;
  std::string conf;
  if (auto text = reactor::read_file("/etc/resolv.conf", 1u << 20)) conf = std::move(*text);
  const char* env = std::getenv("RES_OPTIONS");
  ResolverDefaults d = resolver_defaults(conf, env ? env : "");
  if (d.timeout) {
    opt.timeout = kResolverTimeoutMs;
    mask |= ARES_OPT_TIMEOUTMS;
  }
  if (d.attempts) {
    opt.tries = kResolverAttempts;
    mask |= ARES_OPT_TRIES;
  }
  int rc = ares_init_options(&impl->channel, &opt, mask);
  if (rc != ARES_SUCCESS) return reactor::temp_error(std::string("c-ares: ") + ares_strerror(rc));
  if (servers && *servers) {
    rc = ares_set_servers_ports_csv(impl->channel, servers);
    if (rc != ARES_SUCCESS) return reactor::temp_error(std::string("bad DNSSERVERS: ") + ares_strerror(rc));
  }
  return std::unique_ptr<Resolver>(new Resolver(std::move(impl)));
}

Resolver::Resolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Resolver::~Resolver() = default;

namespace {
template <typename F>
struct Pending {
  F done;
};
}  // namespace

MxAnswer mx_answer(int status, const unsigned char* abuf, int alen) {
  MxAnswer ans;
  ans.status = abuf || status != ARES_SUCCESS ? dns_status(status) : DnsStatus::temporary;
  if (ans.status != DnsStatus::ok) return ans;
  ares_mx_reply* mx = nullptr;
  int rc = ares_parse_mx_reply(abuf, alen, &mx);
  ans.status = dns_status(rc);
  for (ares_mx_reply* m = mx; m; m = m->next) {
    // A name qmail-remote would log or greet must be printable.
    if (!printable_name(m->host)) {
      ans.status = DnsStatus::temporary;
      break;
    }
    ans.mx.push_back({m->host, m->priority});
  }
  if (mx) ares_free_data(mx);
  if (ans.status != DnsStatus::ok) ans.mx.clear();
  else if (ans.mx.empty()) ans.status = DnsStatus::nodata;
  return ans;
}

AAnswer address_answer(int family, int status, const unsigned char* abuf, int alen) {
  AAnswer ans;
  ans.status = abuf || status != ARES_SUCCESS ? dns_status(status) : DnsStatus::temporary;
  if (ans.status != DnsStatus::ok || (family != AF_INET && family != AF_INET6)) return ans;
  hostent* he = nullptr;
  int rc = family == AF_INET ? ares_parse_a_reply(abuf, alen, &he, nullptr, nullptr)
                             : ares_parse_aaaa_reply(abuf, alen, &he, nullptr, nullptr);
  ans.status = dns_status(rc);
  if (he) {
    for (char** a = he->h_addr_list; a && *a; ++a) {
      char buf[INET6_ADDRSTRLEN];
      if (::inet_ntop(family, *a, buf, sizeof buf)) ans.ips.push_back(buf);
    }
    ares_free_hostent(he);
  }
  if (ans.status != DnsStatus::ok) ans.ips.clear();
  else if (ans.ips.empty()) ans.status = DnsStatus::nodata;
  return ans;
}

void Resolver::mx(const std::string& name, std::function<void(MxAnswer)> done) {
  auto* p = new Pending<std::function<void(MxAnswer)>>{std::move(done)};
  ares_query(impl_->channel, name.c_str(), C_IN, T_MX,
             [](void* arg, int status, int, unsigned char* abuf, int alen) {
               std::unique_ptr<Pending<std::function<void(MxAnswer)>>> p(
                   static_cast<Pending<std::function<void(MxAnswer)>>*>(arg));
               if (status == ARES_EDESTRUCTION) return;
               p->done(mx_answer(status, abuf, alen));
             },
             p);
  impl_->rearm();
}

namespace {
// The addresses of an A (AF_INET) or AAAA (AF_INET6) reply.
template <int Family>
void address_reply(void* arg, int status, int, unsigned char* abuf, int alen) {
  std::unique_ptr<Pending<std::function<void(AAnswer)>>> p(static_cast<Pending<std::function<void(AAnswer)>>*>(arg));
  if (status == ARES_EDESTRUCTION) return;
  p->done(address_answer(Family, status, abuf, alen));
}
}  // namespace

void Resolver::a(const std::string& name, std::function<void(AAnswer)> done) {
  auto* p = new Pending<std::function<void(AAnswer)>>{std::move(done)};
  ares_query(impl_->channel, name.c_str(), C_IN, T_A, &address_reply<AF_INET>, p);
  impl_->rearm();
}

void Resolver::aaaa(const std::string& name, std::function<void(AAnswer)> done) {
  auto* p = new Pending<std::function<void(AAnswer)>>{std::move(done)};
  ares_query(impl_->channel, name.c_str(), C_IN, T_AAAA, &address_reply<AF_INET6>, p);
  impl_->rearm();
}

void Resolver::addresses(const std::string& name, std::function<void(AAnswer)> done) {
  // Both answers meet here; the second to arrive reports.
  struct Both {
    std::function<void(AAnswer)> done;
    std::optional<AAnswer> a, aaaa;
  };
  auto both = std::make_shared<Both>();
  both->done = std::move(done);
  auto finish = [both] {
    if (both->a && both->aaaa) both->done(merge_addresses(std::move(*both->a), std::move(*both->aaaa)));
  };
  a(name, [both, finish](AAnswer r) {
    both->a = std::move(r);
    finish();
  });
  aaaa(name, [both, finish](AAnswer r) {
    both->aaaa = std::move(r);
    finish();
  });
}

AAnswer merge_addresses(AAnswer a, AAnswer aaaa) {
  AAnswer out;
  out.ips = std::move(a.ips);
  out.ips.insert(out.ips.end(), aaaa.ips.begin(), aaaa.ips.end());
  if (!out.ips.empty())
    out.status = DnsStatus::ok;
  else if (a.status == DnsStatus::nxdomain)
    out.status = DnsStatus::nxdomain;
  else if (a.status == DnsStatus::temporary || aaaa.status == DnsStatus::temporary)
    out.status = DnsStatus::temporary;
  else
    out.status = DnsStatus::nodata;
  return out;
}

}  // namespace smtp
