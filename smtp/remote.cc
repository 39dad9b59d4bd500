// qmail-remote's delivery attempt (see remote.h).
#include "smtp/remote.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reactor/control.h"
#include "reactor/fd.h"
#include "reactor/inet.h"
#include "smtp/tcpto.h"

namespace smtp {

reactor::Result<RemoteConfig> load_remote_config() {
  RemoteConfig c;
  auto num = [](const char* path, double& out) -> bool {
    auto n = reactor::control_number(path);
    if (!n) return false;
    if (*n) out = static_cast<double>(**n);
    return true;
  };
  if (!num("control/timeoutremote", c.timeout_remote) || !num("control/timeoutconnect", c.timeout_connect))
    return reactor::temp_error("timeouts");
  // helohost defaults to me; with neither qmail refuses to run.
  auto helo = reactor::control_line("control/helohost");
  if (!helo) return helo.error();
  if (*helo) {
    c.helohost = **helo;
  } else {
    auto me = reactor::control_line("control/me");
    if (!me || !*me) return reactor::temp_error("me");
    c.helohost = **me;
  }
  auto routes = reactor::control_list("control/smtproutes");
  if (!routes) return routes.error();
  if (*routes) c.routes = **routes;
  // Test and relay aids of evqmail (doc/qmail-remote.8): the default port
  // and the DNS servers. qmail has neither.
  if (const char* p = std::getenv("SMTPPORT")) {
    char* end = nullptr;
    unsigned long v = std::strtoul(p, &end, 10);
    if (*p && !*end && v > 0 && v < 65536) c.port = static_cast<unsigned>(v);
  }
  if (const char* d = std::getenv("DNSSERVERS")) c.dns_servers = d;
  // The qmail-tls patch's client files.
  auto ciphers = reactor::tls::read_ciphers("control/tlsclientciphers");
  if (!ciphers) return ciphers.error();
  c.tls_ciphers = *ciphers;
  struct stat st;
  if (::stat("control/clientcert.pem", &st) == 0) c.client_cert = "control/clientcert.pem";
  return c;
}

TlsPolicy tls_policy_for(const std::string& name, std::string* ca_file) {
  auto exists = [](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0;
  };
  // A name from DNS that cannot be a file name never matches a file.
  std::string n = reactor::lowercase(name);
  bool usable = !n.empty() && n.find('/') == std::string::npos && n.front() != '.';
  if (usable && exists("control/tlshosts/" + n + ".pem")) {
    if (ca_file) *ca_file = "control/tlshosts/" + n + ".pem";
    return TlsPolicy::required;
  }
  if (usable && exists("control/notlshosts/" + n)) return TlsPolicy::off;
  if (exists("control/tlshosts/exhaustivelist")) return TlsPolicy::off;
  return TlsPolicy::opportunistic;
}

std::string perm_dns_text(const std::string& host) {
  std::string s = "DSorry, I couldn't find any host named ";
  for (char c : host) {
    unsigned char u = static_cast<unsigned char>(c);
    s += (u < 33 || u > 126) ? '?' : c;
  }
  s += ". (#5.1.2)\n";
  return s;
}

Remote::Remote(reactor::Loop& loop, RemoteConfig cfg, std::string host, std::string sender,
               std::vector<std::string> recipients, int message_fd)
    : loop_(loop), cfg_(std::move(cfg)), host_(std::move(host)), sender_(std::move(sender)),
      recipients_(std::move(recipients)), message_fd_(message_fd), port_(cfg_.port) {}

Remote::~Remote() {
  if (sock_ >= 0) ::close(sock_);
}

void Remote::fail(const std::string& report) {
  if (finished_) return;
  output_ += report;
  output_ += '\0';
  finished_ = true;
  loop_.break_loop();
}

void Remote::start() {
  // Nothing that cannot go on the wire safely is worth a connection.
  if (!wire_safe_address(sender_)) return fail(text::kUnsafeSender);
  bool any_safe = false;
  for (const auto& r : recipients_) any_safe = any_safe || wire_safe_address(r);
  if (!any_safe && !recipients_.empty()) {
    for (const auto& r : recipients_)
      if (!wire_safe_address(r)) {
        output_ += text::kUnsafeRecipient;
        output_ += '\0';
      }
    return fail(text::kNoSafeRecipient);
  }
  if (auto r = find_route(cfg_.routes, host_, cfg_.port)) {
    relay_ = true;
    host_ = r->host;
    port_ = r->port;
    relay_info_ = *r;
  }
  if (auto ip = ip_literal(host_)) return resolved_targets({{*ip, 0, relay_ ? host_ : *ip}});
  auto res = Resolver::create(loop_, cfg_.dns_servers.empty() ? nullptr : cfg_.dns_servers.c_str());
  if (!res) return fail(text::kTempDns);
  resolver_ = std::move(*res);
  auto a_only = [this](AAnswer a) {
    switch (a.status) {
      case DnsStatus::nxdomain: return fail(perm_dns_text(host_));
      case DnsStatus::temporary: return fail(text::kTempDns);
      case DnsStatus::nodata: return fail(text::kPermNoMx);
      case DnsStatus::ok: break;
    }
    std::vector<Target> t;
    for (auto& ip : a.ips) t.push_back({ip, 0, host_});
    resolved_targets(std::move(t));
  };
  // A relay is used as the only "MX": its own addresses, no MX lookup.
  if (relay_) return resolver_->addresses(host_, a_only);
  resolver_->mx(host_, [this, a_only](MxAnswer ans) {
    if (ans.status == DnsStatus::nodata) return resolver_->addresses(host_, a_only);  // no MX: the host itself
    on_mx(std::move(ans));
  });
}

void Remote::on_mx(MxAnswer ans) {
  if (ans.status == DnsStatus::nxdomain) return fail(perm_dns_text(host_));
  if (ans.status != DnsStatus::ok) return fail(text::kTempDns);
  mx_ = std::move(ans.mx);
  order_mx(mx_, static_cast<unsigned long>(::time(nullptr)) + (static_cast<unsigned long>(::getpid()) << 16));
  mx_ips_.assign(mx_.size(), {});
  pending_a_ = static_cast<int>(mx_.size());
  for (size_t i = 0; i < mx_.size(); ++i) {
    auto got = [this, i](AAnswer a) {
      if (a.status == DnsStatus::temporary) soft_a_ = true;
      mx_ips_[i] = std::move(a.ips);
      if (--pending_a_ > 0) return;
      std::vector<Target> t;
      for (size_t k = 0; k < mx_.size(); ++k)
        for (auto& ip : mx_ips_[k]) t.push_back({ip, mx_[k].pref, mx_[k].name});
      if (t.empty()) return fail(soft_a_ ? text::kTempDns : text::kPermNoMx);
      ipv4_first(t);
      resolved_targets(std::move(t));
    };
    // An MX naming an address literally needs no lookup.
    if (auto ip = ip_literal(mx_[i].name)) {
      AAnswer a;
      a.status = DnsStatus::ok;
      a.ips.push_back(*ip);
      got(std::move(a));
    } else {
      resolver_->addresses(mx_[i].name, got);
    }
  }
}

void Remote::resolved_targets(std::vector<Target> all) {
  if (all.empty()) return fail(text::kPermNoMx);
  targets_ = usable_targets(all, &ipme, relay_);
  if (targets_.empty()) return fail(text::kPermAmbigMx);
  try_next();
}

void Remote::try_next() {
  while (next_target_ < targets_.size()) {
    const Target& t = targets_[next_target_++];
    if (tcpto::file_skip(t.ip, was_there_)) continue;  // timed out recently (IPv4 only)
    auto sa = reactor::parse_ip(t.ip, static_cast<uint16_t>(port_));
    if (!sa) continue;
    sock_ = ::socket(sa->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (sock_ < 0) {
      if (errno == EAFNOSUPPORT) continue;  // no IPv6 here: the next address
      return fail(text::kTempOsErr);
    }
    // Without Nagle: the end of DATA (".\r\n", written after the body) would
    // otherwise wait for the server's delayed ACK of the body, about 40 ms
    // per message. The commands are written whole, so no tiny segments result.
    int one = 1;
    ::setsockopt(sock_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    partner_ = t.ip;
    partner_name_ = t.name;
    int rc = ::connect(sock_, sa->sa(), sa->len);
    if (rc == 0) return on_connect_ready(false);
    if (errno != EINPROGRESS) {
      tcpto::file_record(partner_, false, was_there_);
      ::close(sock_);
      sock_ = -1;
      continue;
    }
    connect_io_ = std::make_unique<reactor::Io>(loop_, [this](int) { on_connect_ready(false); });
    connect_timer_ = std::make_unique<reactor::Timer>(loop_, [this] { on_connect_ready(true); });
    connect_io_->start(sock_, EV_WRITE);
    connect_timer_->start(cfg_.timeout_connect);
    return;
  }
  fail(text::kTempNoConn);
}

void Remote::on_connect_ready(bool timed_out) {
  if (connect_io_) connect_io_->stop();
  if (connect_timer_) connect_timer_->stop();
  int err = 0;
  socklen_t len = sizeof err;
  if (!timed_out && ::getsockopt(sock_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (timed_out || err != 0) {
    // Only a timeout marks the host in tcpto; a refusal clears it, like qmail.
    tcpto::file_record(partner_, timed_out, was_there_);
    ::close(sock_);
    sock_ = -1;
    return try_next();
  }
  tcpto::file_record(partner_, false, was_there_);
  start_session();
}

void Remote::start_session() {
  reactor::StreamOptions opt;
  opt.lines = false;
  opt.idle_timeout = cfg_.timeout_remote;
  opt.max_out = 1u << 20;
  int fd = sock_;
  sock_ = -1;  // the stream owns it now
  stream_ = std::make_unique<reactor::Stream>(loop_, fd, fd, opt);
  Envelope env{cfg_.helohost, sender_, recipients_};
  struct stat st;
  if (::fstat(message_fd_, &st) == 0 && S_ISREG(st.st_mode)) env.size = static_cast<int64_t>(st.st_size);
  ClientPolicy policy;
  policy.host = partner_name_;
  tls_ca_.clear();
  tls_policy_ = tls_policy_for(partner_name_, &tls_ca_);
  policy.tls = tls_policy_;
  if (tls_policy_ == TlsPolicy::required) policy.tls_file = "tlshosts/" + reactor::lowercase(partner_name_) + ".pem";
  if (relay_ && relay_info_.auth) {
    policy.auth = true;
    policy.user = relay_info_.user;
    policy.password = relay_info_.password;
  }
  client_ = std::make_unique<Client>(std::move(env), partner_, std::move(policy));
  stream_->on_data = [this](reactor::Buffer& in) {
    if (tls_) {
      std::string v(in.view());
      in.consume(v.size());
      on_cipher(v);
    } else {
      std::string_view v = in.view();
      client_->feed(v);
      in.consume(v.size());
    }
    pump();
  };
  auto lost = [this] {
    // A peer that hangs up in the middle of the handshake failed TLS (as
    // SSL_connect would say in the patch): still a deferral, never plaintext.
    if (tls_ && !tls_up_) client_->tls_failed("connection closed during the handshake");
    else client_->connection_lost();
    pump();
  };
  stream_->on_eof = lost;
  stream_->on_error = [lost](reactor::StreamError, int) { lost(); };
  stream_->on_drain = [this] { pump(); };
  stream_->start();
  // smtps (the qmail-tls patch): port 465 is TLS from the first byte.
  if (port_ == 465) {
    start_tls();
    pump();
  }
}

// The TLS session for STARTTLS or smtps: a fresh client context (the CA of
// tlshosts/<host>.pem when required, else no verification is enforced),
// and the ClientHello on its way.
void Remote::start_tls() {
  auto ctx = reactor::tls::Context::client(cfg_.client_cert, tls_ca_, cfg_.tls_ciphers);
  if (!ctx) return client_->tls_failed(ctx.error().text);
  bool verify = tls_policy_ == TlsPolicy::required;
  // The name asked for and checked: the MX or relay name, or the address
  // (reactor/tls sends no SNI for an address and checks it against the
  // certificate's IP entries).
  std::string sni = partner_name_.empty() ? partner_ : partner_name_;
  tls_ = std::make_unique<reactor::tls::Session>(*ctx, reactor::tls::Session::Role::client, sni, verify);
  tls_up_ = false;
  std::string plain;
  if (!tls_->read(plain)) return client_->tls_failed(tls_->error());
  flush_cipher();
}

void Remote::on_cipher(std::string_view bytes) {
  tls_->put_cipher(bytes);
  std::string plain;
  bool ok = tls_->read(plain);
  flush_cipher();
  if (!ok) {
    if (!tls_up_) return client_->tls_failed(tls_->error());
    return client_->connection_lost();
  }
  if (!tls_up_ && tls_->handshake_done()) {
    tls_up_ = true;
    if (tls_policy_ == TlsPolicy::required)
      if (auto why = tls_->verify_error()) return client_->tls_unverified(*why);
    client_->tls_started();
  }
  if (!plain.empty()) client_->feed(plain);
  if (tls_->peer_closed()) client_->connection_lost();
}

void Remote::flush_cipher() {
  if (!tls_ || stream_->closed()) return;
  std::string c = tls_->take_cipher();
  if (!c.empty()) stream_->write(c);
}

// Moves bytes: the machine's commands to the socket, and (while DATA runs)
// the message from its fd through the machine, never holding more than
// about one output buffer of it.
void Remote::pump() {
  if (pumping_ || finished_) return;
  pumping_ = true;
  constexpr size_t kHighWater = 256u << 10;
  for (;;) {
    std::string out = client_->take_output();
    if (!out.empty() && !stream_->closed()) {
      if (!tls_) {
        stream_->write(out);
      } else if (tls_->write(out)) {
        flush_cipher();
      } else if (!client_->done()) {
        client_->connection_lost();
      }
    }
    if (client_->done() || stream_->closed()) break;
    if (client_->wants_tls() && !tls_) {
      start_tls();
      continue;
    }
    if (!client_->wants_body() || stream_->pending_output() >= kHighWater) break;
    char buf[64u << 10];
    ssize_t n = reactor::read_some(message_fd_, buf, sizeof buf);
    if (n > 0) client_->body(std::string_view(buf, static_cast<size_t>(n)));
    else if (n == 0) client_->body_end();
    else client_->body_error();
  }
  pumping_ = false;
  if (client_->done() || stream_->closed()) {
    if (!client_->done()) client_->connection_lost();
    finish_session();
  }
}

void Remote::finish_session() {
  output_ += client_->take_reports();
  finished_ = true;
  if (tls_ && tls_up_) {
    tls_->shutdown();
    flush_cipher();
  }
  // QUIT is already written (or queued): qmail does not wait for its answer.
  stream_->close();
  loop_.break_loop();
}

}  // namespace smtp
