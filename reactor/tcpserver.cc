// tcpserver: accepts TCP connections and runs a program for each, with the
// socket on fd 0 and 1 (ucspi-tcp's tcpserver, on a libev loop).
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <grp.h>
#include <string>
#include <unistd.h>
#include <vector>

#include "reactor/acceptor.h"
#include "reactor/fd.h"
#include "reactor/ident.h"
#include "reactor/loop.h"

using namespace reactor;

namespace {
[[noreturn]] void fatal(const std::string& text) {
  write_all(2, "tcpserver: fatal: " + text + "\n");
  _exit(111);
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  auto opts = parse_server_options(args, getenv("UID"), getenv("GID"));
  if (!opts) {
    write_all(2, opts.error().text + "\n");
    return 100;
  }
  auto ident_port = ident_port_from_env();
  if (!ident_port) fatal("IDENTPORT is not a port number");
  opts->ident_port = *ident_port;
  signal(SIGPIPE, SIG_IGN);
  Loop loop;
  Acceptor acceptor(loop, *opts);
  if (auto s = acceptor.listen(); !s) fatal(s.error().text);
  // Privileges go after binding, as ucspi-tcp does (port 25 needs root).
  if (opts->gid) {
    gid_t g = static_cast<gid_t>(opts->gid);
    if ((geteuid() == 0 && setgroups(1, &g) == -1) || setgid(g) == -1)
      fatal("unable to set gid: " + errno_text(errno));
  }
  if (opts->uid && setuid(static_cast<uid_t>(opts->uid)) == -1) fatal("unable to set uid: " + errno_text(errno));
  if (opts->print_port) write_all(1, std::to_string(acceptor.port()) + "\n");
  // fd 0 and 1 belong to connections only; keep them open on /dev/null.
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    if (null > 1) close(null);
  }
  // TERM ends the server at once, as ucspi-tcp's does: running children
  // carry on by themselves, and nothing is left to flush (logs are written
  // unbuffered).  _exit also keeps exit-time work such as LeakSanitizer's
  // out of the way of supervise, which sends CONT right after TERM.
  Signal term(loop, SIGTERM, [] { _exit(0); });
  acceptor.start();
  loop.run();
  return 0;
}
