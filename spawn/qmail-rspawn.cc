// qmail-rspawn: the remote delivery spawner. Runs as qmailr (or the tree's
// single user), reads requests from qmail-send on fd 0, reports on fd 1, and
// runs qmail-remote (or $QMAILREMOTE) for each; diagnostics go to fd 2.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "queue/home.h"
#include "queue/spawn_proto.h"
#include "reactor/log.h"
#include "reactor/loop.h"
#include "smtp/tcpto.h"
#include "spawn/rspawn.h"

int main() {
  if (!queue::chdir_home()) return 111;
  std::string program = queue::home_path("bin/qmail-remote");
  if (const char* qr = std::getenv("QMAILREMOTE"); qr && *qr) program = qr;  // notqmail's hook
  if (::chdir("queue/mess") != 0) return 111;
  ::signal(SIGPIPE, SIG_IGN);
  // A fresh start forgets old timeouts, like qmail's tcpto_clean().
  (void)smtp::tcpto::file_clear("../lock/tcpto");

  const char* w = std::getenv(queue::proto::kWideEnv);
  auto plan = spawn::plan_slots(spawn::raise_fd_limit(), w && *w == '1');
  if (plan.fd_limited)
    reactor::warning("qmail-rspawn", "descriptor limit allows only " + std::to_string(plan.slots) +
                                         " simultaneous remote deliveries (raise ulimit -n for 1000)");
  reactor::Loop loop;
  spawn::RemoteChannel channel(program);
  spawn::Spawner spawner(loop, channel, plan.slots, plan.wide, 0, 1);
  spawner.start();
  while (!spawner.finished()) loop.run();
  if (spawner.protocol_error()) {
    reactor::fatal("qmail-rspawn", "request too long");
    return 111;
  }
  return 0;
}
