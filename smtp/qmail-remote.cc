// qmail-remote host sender recip...: delivers the message on fd 0 over SMTP
// and writes qmail's NUL-terminated reports on fd 1; exits 0 once started.
#include <csignal>
#include <string>
#include <vector>

#include "queue/home.h"
#include "reactor/fd.h"
#include "reactor/loop.h"
#include "smtp/remote.h"

namespace {
[[noreturn]] void report_and_exit(std::string r) {
  r += '\0';
  (void)reactor::write_all(1, r);
  ::_exit(0);
}
}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  if (argc < 4) report_and_exit(smtp::text::kPermUsage);
  if (!queue::chdir_home()) report_and_exit(smtp::text::kTempChdir);
  auto cfg = smtp::load_remote_config();
  if (!cfg) report_and_exit(smtp::text::kTempControl);
  reactor::Loop loop;
  smtp::Remote remote(loop, std::move(*cfg), argv[1], argv[2], std::vector<std::string>(argv + 3, argv + argc), 0);
  remote.start();
  while (!remote.finished()) loop.run();
  (void)reactor::write_all(1, remote.output());
  return 0;
}
