// tcp-env: for a program started by inetd on a TCP socket (fd 0), sets the
// tcp-environ(5) variables as qmail's tcp-env does, then runs the program.
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <getopt.h>
#include <string>
#include <unistd.h>
#include <vector>

#include "reactor/fd.h"
#include "reactor/ident.h"
#include "reactor/inet.h"

using namespace reactor;

int main(int argc, char** argv) {
  opterr = 0;
  int opt;
  bool ident = true;     // -r, qmail's default: ask for TCPREMOTEINFO
  double timeout = 30;   // -t: qmail's tcp-env waits 30 seconds
  while ((opt = getopt(argc, argv, "+rRt:")) != -1) {
    switch (opt) {
      case 'r': ident = true; break;
      case 'R': ident = false; break;
      case 't': {
        auto n = parse_number(optarg);
        if (!n) optind = argc;  // a bad timeout is a usage error
        else timeout = static_cast<double>(*n);
        break;
      }
      default: optind = argc; break;
    }
  }
  if (optind >= argc) {
    write_all(2, "tcp-env: usage: tcp-env [ -rR ] [ -t timeout ] program [ arg ... ]\n");
    return 100;
  }
  std::vector<std::string> env = current_env();
  const char* proto = getenv("PROTO");
  // A caller that already says PROTO=TCP (tcpserver, a previous tcp-env)
  // has set everything; qmail's tcp-env then changes nothing.
  if (!proto || (std::strcmp(proto, "TCP") != 0 && std::strcmp(proto, "TCP6") != 0)) {
    auto t = socket_info(0);
    if (!t) {
      write_all(2, "tcp-env: fatal: unable to get socket addresses of fd 0: " + errno_text(errno) + "\n");
      return 111;
    }
    auto l = local_address(0);
    auto r = peer_address(0);
    if (l) t->local_host = lookup_name(*l);
    if (r) t->remote_host = lookup_name(*r);
    if (ident && l && r) {
      auto port = ident_port_from_env();
      if (port) t->remote_info = ident_lookup(*l, *r, timeout, *port);
    }
    env = apply_env(std::move(env), tcp_env_changes(*t));
  }
  std::vector<char*> envp, av;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  for (int i = optind; i < argc; ++i) av.push_back(argv[i]);
  av.push_back(nullptr);
  signal(SIGPIPE, SIG_DFL);
  execvpe(av[0], av.data(), envp.data());
  write_all(2, std::string("tcp-env: fatal: unable to run ") + av[0] + ": " + errno_text(errno) + "\n");
  return 111;
}
