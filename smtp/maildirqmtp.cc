// maildirqmtp dir prefix host: the serialmail wrapper, i.e.
//   maildirserial -b -t 1209600 -- dir prefix tcpclient -RHl0 -- host 209 serialqmtp ...
// with maildirserial and serialqmtp from QMAILHOME/bin, and tcpclient from
// QMAILHOME/bin when evqmail installed one there, else from $PATH.
// $MAILDIRQMTP_PORT replaces port 209 (an evqmail addition; unset: 209).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

#include "queue/home.h"
#include "smtp/maildirserial_core.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "maildirqmtp: usage: maildirqmtp dir prefix host\n");
    return 100;
  }
  std::vector<std::string> args(argv + 1, argv + 4);
  std::string bindir = queue::home_path("bin");
  std::string tcpclient = bindir + "/tcpclient";
  if (::access(tcpclient.c_str(), X_OK) != 0) tcpclient = "tcpclient";
  const char* port = std::getenv("MAILDIRQMTP_PORT");
  auto v = smtp::wrapper_argv(true, args, bindir, tcpclient, port && *port ? port : "209");
  std::vector<char*> cargv;
  for (auto& s : v) cargv.push_back(s.data());
  cargv.push_back(nullptr);
  ::execv(cargv[0], cargv.data());
  std::perror("maildirqmtp: fatal: unable to run maildirserial");
  return 111;
}
