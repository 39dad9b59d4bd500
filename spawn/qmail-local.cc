// qmail-local [-nN] [--] user homedir local dash ext domain sender defaultdelivery
// Delivers the message on fd 0 (seekable) as qmail-local(8); exit 0/100/111.
#include <csignal>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include "reactor/fd.h"
#include "spawn/local.h"

namespace {

int usage() {
  reactor::write_all(2, "qmail-local: usage: qmail-local [ -nN ] user homedir local dash ext domain sender "
                        "aliasempty\n");
  return 100;
}

}  // namespace

int main(int argc, char** argv) {
  ::umask(077);
  ::signal(SIGPIPE, SIG_IGN);
  bool doit = true;
  int opt;
  // "+": stop at the first non-option as qmail does (a sender may start with -).
  while ((opt = ::getopt(argc, argv, "+nN")) != -1) {
    if (opt == 'n') doit = false;
    else if (opt == 'N') doit = true;
    else return usage();
  }
  if (argc - optind != 8) return usage();
  char** v = argv + optind;
  spawn::LocalArgs a{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
  if (a.homedir.empty() || a.homedir[0] != '/') return usage();
  return spawn::LocalDelivery(std::move(a), doit).run();
}
