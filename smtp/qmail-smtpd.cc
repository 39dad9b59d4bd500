// qmail-smtpd: receive mail over SMTP on fds 0/1 (run by tcpserver as qmaild).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

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

// The two command lines of the smtp-auth patches: "qmail-smtpd hostname
// checkpassword subprogram..." (the original patch) and "qmail-smtpd
// checkpassword subprogram..." (the qmail-authentication patch). With one or
// two words, or a first word holding a '/', the first word is the
// checkpassword.
struct AuthArgs {
  std::string hostname;
  std::vector<std::string> checkpassword;
};
AuthArgs auth_args(int argc, char** argv) {
  AuthArgs a;
  if (argc < 2) return a;
  int first = 1;
  if (argc > 3 && !std::strchr(argv[1], '/')) {
    a.hostname = argv[1];
    first = 2;
  }
  for (int i = first; i < argc; ++i) a.checkpassword.emplace_back(argv[i]);
  return a;
}
}  // namespace

int main(int argc, char** argv) {
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
  AuthArgs auth = auth_args(argc, argv);
  smtp::parse_auth_env(cfg->auth, !auth.checkpassword.empty(), std::getenv("SMTPAUTH"), std::getenv("FORCETLS"),
                       std::getenv("AUTHFAILDELAY"));
  cfg->auth.cram_host = auth.hostname.empty() ? cfg->greeting.substr(0, cfg->greeting.find(' ')) : auth.hostname;
  policy.set_checkpassword(std::move(auth.checkpassword));
  smtp::DriverOptions opt;
  opt.idle_timeout = static_cast<double>(cfg->timeout);
  opt.lifetime = 2.0 * cfg->timeout;
  if (const char* ip = std::getenv("TCPREMOTEIP")) opt.log_name += std::string(" ") + ip;
  policy.set_log_name(opt.log_name);
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
