// qmail-smtpd: receive mail over SMTP on fds 0/1 (run by tcpserver as qmaild).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "queue/home.h"
#include "reactor/fd.h"
#include "smtp/rcpthosts.h"
#include "smtp/smtpd.h"
#include "smtp/smtpd_config.h"
#include "smtp/smtpd_driver.h"
#include "smtp/smtpd_policy.h"

namespace {
constexpr const char* kServerCert = "control/servercert.pem";

int die(const char* reply) {
  reactor::write_all(1, reply);
  return 1;
}
}  // namespace

int main() {
  std::signal(SIGPIPE, SIG_IGN);
  if (!queue::chdir_home()) return die("421 unable to read controls (#4.3.0)\r\n");
  auto cfg = smtp::load_smtpd_config("control", smtp::process_env());
  if (!cfg) return die("421 unable to read controls (#4.3.0)\r\n");
  smtp::RcptHosts rcpthosts;
  if (!rcpthosts.load("control")) return die("421 unable to read controls (#4.3.0)\r\n");
  if (!rcpthosts.have_file())
    std::fputs("qmail-smtpd: warning: no control/rcpthosts: accepting mail for every domain\n", stderr);
  auto ips = smtp::local_ip_addresses();
  if (!ips) return die("421 unable to figure out my IP addresses (#4.3.0)\r\n");
  smtp::QueuePolicy policy(rcpthosts, *ips);
  smtp::DriverOptions opt;
  opt.idle_timeout = static_cast<double>(cfg->timeout);
  opt.lifetime = 2.0 * cfg->timeout;
  if (const char* ip = std::getenv("TCPREMOTEIP")) opt.log_name += std::string(" ") + ip;
  // TLS as the qmail-tls patch sets it up: STARTTLS when control/servercert.pem
  // exists (unless $DISABLETLS is 1), TLS from the start when $SMTPS is set.
  opt.implicit_tls = std::getenv("SMTPS") != nullptr;
  auto tls = reactor::tls::server_setup(kServerCert, "control/tlsserverciphers", opt.implicit_tls);
  if (!tls) return die("421 unable to read controls (#4.3.0)\r\n");
  if (!tls->warning.empty()) std::fprintf(stderr, "%s: warning: no TLS: %s\n", opt.log_name.c_str(), tls->warning.c_str());
  opt.tls = tls->ctx;
  cfg->starttls = opt.tls && !opt.implicit_tls;
  if (opt.implicit_tls && !opt.tls) {
    std::fprintf(stderr, "%s: tls: no usable control/servercert.pem for SMTPS\n", opt.log_name.c_str());
    return 111;
  }
  smtp::Smtpd session(*cfg, policy);
  session.start();
  smtp::run_session(session, opt);
  return session.exit_code();
}
