// sendmail: the sendmail command line on top of qmail-inject (inject.md 2);
// also `mailq` (runs qmail-qread) and `newaliases` when installed under those names.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <unistd.h>

#include "queue/home.h"
#include "queue/inject_args.h"

int main(int argc, char** argv) {
  const char* base = argc > 0 ? std::strrchr(argv[0], '/') : nullptr;
  std::string progname = base ? base + 1 : (argc > 0 ? argv[0] : "sendmail");
  if (!queue::chdir_home()) {
    std::cerr << "sendmail: fatal: unable to switch to qmail home directory\n";
    return 111;
  }
  using Action = queue::SendmailPlan::Action;
  auto plan = queue::plan_sendmail(progname, std::vector<std::string>(argv + 1, argv + argc),
                                   std::getenv("PROTO") != nullptr);
  if (plan.action == Action::usage) {
    std::cerr << "sendmail: usage: sendmail [ -t ] [ -fsender ] [ -Fname ] [ -bp ] [ -bs ] [ arg ... ]\n";
    return 100;
  }
  if (plan.action == Action::newaliases) {
    std::cerr << "sendmail: fatal: qmail does not use /etc/aliases; use the alias user's .qmail files "
                 "(dot-qmail(5)) or fastforward's newaliases instead\n";
    return 100;
  }
  for (const auto& [k, v] : plan.setenv) ::setenv(k.c_str(), v.c_str(), 1);
  std::vector<char*> xargv;
  for (std::string& a : plan.argv) xargv.push_back(a.data());
  xargv.push_back(nullptr);
  ::execv(xargv[0], xargv.data());
  std::cerr << "sendmail: fatal: unable to run " << plan.argv[0].substr(4) << "\n";
  return 111;
}
