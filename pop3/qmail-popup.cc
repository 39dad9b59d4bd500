// qmail-popup hostname subprogram [args...]: the POP3 authorization state;
// hands name, password and APOP timestamp to a checkpassword program on fd 3.
#include "pop3/pop3d_run.h"
#include "pop3/popup_run.h"
#include "reactor/fd.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    reactor::write_all(1, "-ERR usage: popup hostname subprogram\r\n");
    return 1;
  }
  return pop3::run_popup(argv[1], argv + 2, pop3::io_timeout());
}
