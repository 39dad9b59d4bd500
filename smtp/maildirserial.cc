// maildirserial [-b] [-t lifetime] dir prefix client [arg ...]: hands the
// maildir's messages for `prefix` to a serialmail client and removes,
// bounces or keeps each one according to its report (spec/serialmail.md 2).
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>
#include <string>
#include <vector>

#include "smtp/maildirserial_run.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto o = smtp::parse_maildirserial_args(args);
  if (!o) {
    std::fprintf(stderr, "maildirserial: usage: maildirserial [ -b ] [ -t lifetime ] dir prefix client [ arg ... ]\n");
    return 100;
  }
  // fd 0/1 may still be an AutoTURN customer's connection (the recipe runs
  // us after qmail-smtpd in the same session): let it close now. Our client
  // talks through pipes and reports go to fd 2.
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    if (null > 1) ::close(null);
  }
  return smtp::run_maildirserial(*o);
}
