// tcpclient: connects to a TCP server and runs a program with the socket on
// fd 6 (read) and fd 7 (write) and the tcp-environ(5) variables set.
#include <csignal>
#include <cstdlib>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <unistd.h>
#include <vector>

#include "reactor/fd.h"
#include "reactor/ident.h"
#include "reactor/inet.h"

using namespace reactor;

namespace {
const char* const kUsage =
    "tcpclient: usage: tcpclient [ -46hHrRdDqQv ] [ -i localip ] [ -p localport ] [ -T timeoutconn ] "
    "[ -l localname ] [ -t timeoutinfo ] host port program\n";

int verbosity = 1;

[[noreturn]] void fatal(const std::string& text) {
  if (verbosity) write_all(2, "tcpclient: fatal: " + text + "\n");
  _exit(111);
}
[[noreturn]] void usage() {
  write_all(2, kUsage);
  _exit(100);
}
unsigned long number(const char* s) {
  auto n = parse_number(s ? s : "");
  if (!n) usage();
  return *n;
}
}  // namespace

int main(int argc, char** argv) {
  close(6);
  close(7);
  signal(SIGPIPE, SIG_IGN);
  bool nodelay = false, remote_host = true, ident = true;  // -r is ucspi-tcp's default
  double ident_timeout = 26;
  int family = 0;
  std::optional<std::string> localip, localname;
  unsigned long localport = 0;
  double conn_timeout = 60;  // ucspi-tcp's -T2+58: both parts add up per address
  opterr = 0;
  int opt;
  while ((opt = getopt(argc, argv, "+46dDvqQhHrRi:p:t:T:l:")) != -1) {
    switch (opt) {
      case '4': family = 4; break;
      case '6': family = 6; break;
      case 'd': nodelay = false; break;
      case 'D': nodelay = true; break;
      case 'v': verbosity = 2; break;
      case 'q': verbosity = 0; break;
      case 'Q': verbosity = 1; break;
      case 'h': remote_host = true; break;
      case 'H': remote_host = false; break;
      case 'r': ident = true; break;
      case 'R': ident = false; break;
      case 't': ident_timeout = static_cast<double>(number(optarg)); break;
      case 'T': {
        std::string t = optarg;
        size_t plus = t.find('+');
        conn_timeout = static_cast<double>(number(t.substr(0, plus).c_str()));
        if (plus != std::string::npos) conn_timeout += static_cast<double>(number(t.substr(plus + 1).c_str()));
        break;
      }
      case 'i': localip = optarg; break;
      case 'p': localport = number(optarg); break;
      case 'l': localname = optarg; break;
      default: usage();
    }
  }
  if (argc - optind < 3) usage();
  std::string host = argv[optind], portname = argv[optind + 1];
  auto port = parse_port(portname);
  if (!port) fatal(port.error().text);
  auto addrs = client_addresses(host, *port, family);
  if (!addrs) fatal(addrs.error().text);

  std::optional<SockAddr> local;
  if (localip || localport) {
    std::string ip = localip.value_or(addrs->front().family() == AF_INET6 ? "::" : "0.0.0.0");
    local = parse_ip(ip, static_cast<uint16_t>(localport));
    if (!local || localport > 65535) usage();
  }
  auto s = connect_tcp(*addrs, local, conn_timeout);
  if (!s) {
    if (verbosity) write_all(2, "tcpclient: " + s.error().text + "\n");
    return 111;
  }
  int one = 1;
  if (nodelay) setsockopt(s->get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto t = socket_info(s->get());
  if (!t) fatal("unable to get socket addresses: " + errno_text(errno));
  if (verbosity >= 2) write_all(2, "tcpclient: connected to " + t->remote_ip + " port " + t->remote_port + "\n");
  if (localname) {
    t->local_host = localname;
  } else if (auto l = local_address(s->get())) {
    t->local_host = lookup_name(*l);
  }
  if (remote_host)
    if (auto r = peer_address(s->get())) t->remote_host = lookup_name(*r);
  if (ident) {
    auto l = local_address(s->get());
    auto r = peer_address(s->get());
    auto port = ident_port_from_env();
    if (!port) fatal("IDENTPORT is not a port number");
    if (l && r) t->remote_info = ident_lookup(*l, *r, ident_timeout, *port);
  }
  auto env = apply_env(current_env(), tcp_env_changes(*t));

  if (dup2(s->get(), 6) == -1 || dup2(s->get(), 7) == -1) fatal("unable to set up descriptors 6 and 7: " + errno_text(errno));
  s->reset();
  std::vector<char*> envp, av;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  for (int i = optind + 2; i < argc; ++i) av.push_back(argv[i]);
  av.push_back(nullptr);
  signal(SIGPIPE, SIG_DFL);
  execvpe(av[0], av.data(), envp.data());
  fatal(std::string("unable to run ") + av[0] + ": " + errno_text(errno));
}
