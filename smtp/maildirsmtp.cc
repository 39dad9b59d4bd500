// maildirsmtp dir prefix host helohost: the serialmail wrapper, i.e.
//   maildirserial -b -t 1209600 -- dir prefix tcpclient -RHl0 -- host 25 serialsmtp ...
// with maildirserial and serialsmtp from QMAILHOME/bin, and tcpclient from
// QMAILHOME/bin when evqmail installed one there, else from $PATH.
// $MAILDIRSMTP_PORT replaces port 25 (an evqmail addition; unset: 25).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

#include "queue/home.h"
#include "smtp/maildirserial_core.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "maildirsmtp: usage: maildirsmtp dir prefix host helohost\n");
    return 100;
  }
  std::vector<std::string> args(argv + 1, argv + 5);
  std::string bindir = queue::home_path("bin");
  std::string tcpclient = bindir + "/tcpclient";
  if (::access(tcpclient.c_str(), X_OK) != 0) tcpclient = "tcpclient";
  const char* port = std::getenv("MAILDIRSMTP_PORT");
  auto v = smtp::wrapper_argv(false, args, bindir, tcpclient, port && *port ? port : "25");
  std::vector<char*> cargv;
  for (auto& s : v) cargv.push_back(s.data());
  cargv.push_back(nullptr);
  ::execv(cargv[0], cargv.data());
  std::perror("maildirsmtp: fatal: unable to run maildirserial");
  return 111;
}
