// qmail-smtpd: receive mail over SMTP on fds 0/1 (run by tcpserver as qmaild).
#include <csignal>
#include <cstdio>

#include "queue/home.h"
#include "reactor/fd.h"
#include "smtp/rcpthosts.h"
#include "smtp/smtpd.h"
#include "smtp/smtpd_config.h"
#include "smtp/smtpd_driver.h"
#include "smtp/smtpd_policy.h"

namespace {
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
  smtp::DriverOptions opt{static_cast<double>(cfg->timeout), 2.0 * cfg->timeout};
  smtp::Smtpd session(*cfg, policy);
  session.start();
  smtp::run_session(session, opt);
  return session.exit_code();
}
