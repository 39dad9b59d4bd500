// qmail-qmtpd: receive mail over QMTP on fds 0/1 (run by tcpserver as qmaild).
#include <csignal>

#include "queue/home.h"
#include "smtp/qmtpd.h"
#include "smtp/rcpthosts.h"
#include "smtp/smtpd_config.h"
#include "smtp/smtpd_driver.h"
#include "smtp/smtpd_policy.h"

int main() {
  std::signal(SIGPIPE, SIG_IGN);
  if (!queue::chdir_home()) return 111;
  smtp::RcptHosts rcpthosts;
  if (!rcpthosts.load("control")) return 111;
  auto env = smtp::process_env();
  auto databytes = smtp::load_databytes("control", env);
  if (!databytes) return 111;
  smtp::QmtpdConfig cfg;
  cfg.databytes = *databytes;
  cfg.relayclient = env("RELAYCLIENT");
  cfg.peer = smtp::peer_from_env(env);
  smtp::QueuePolicy policy(rcpthosts, {});
  smtp::Qmtpd session(cfg, policy);
  // qmail-qmtpd's only limit is alarm(3600) for the whole connection.
  smtp::DriverOptions opt;
  opt.idle_timeout = opt.lifetime = 3600;
  opt.log_name = "qmail-qmtpd";
  smtp::run_session(session, opt);
  return session.exit_code();
}
