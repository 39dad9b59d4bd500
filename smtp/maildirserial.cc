// maildirserial [-b] [-t lifetime] dir prefix client [arg ...]: hands the
// maildir's messages for `prefix` to a serialmail client and removes,
// bounces or keeps each one according to its report (spec/serialmail.md 2).
#include <cstdio>
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
  return smtp::run_maildirserial(*o);
}
