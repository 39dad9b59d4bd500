// qmail-pop3d maildir: the POP3 transaction state for one mailbox on fd 0/1,
// run by checkpassword as the mailbox owner with the cwd at the user's home.
#include <csignal>
#include <cstdlib>
#include <unistd.h>

#include "pop3/pop3d_run.h"
#include "reactor/fd.h"

int main(int argc, char** argv) {
  // A root POP session would be a root shell in disguise (notqmail's fix).
  if (::getuid() == 0) {
    reactor::write_all(2, "qmail-pop3d invoked as uid 0, terminating\n");
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);
  pop3::Pop3dOptions opt;
  const char* q = std::getenv("POP3D_QMAILSTAT");
  opt.qmail_stat = q && *q && *q != '0';
  return pop3::run_pop3d(argc > 1 ? argv[1] : nullptr, opt, pop3::io_timeout());
}
