// preline [-dfr] command [args]: runs the command with the mbox From_ line,
// Return-Path and Delivered-To (UFLINE, RPLINE, DTLINE) in front of the
// message. -f, -r, -d omit them; -F, -R, -D put them back. Passes the
// command's exit code through; usage errors 100, other trouble 111.
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "reactor/fd.h"
#include "spawn/getpw.h"
#include "spawn/tools_common.h"

namespace {

[[noreturn]] void usage() { spawn::die(100, "preline: usage: preline cmd [ arg ... ]"); }

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  const char* uf = std::getenv("UFLINE");
  const char* rp = std::getenv("RPLINE");
  const char* dt = std::getenv("DTLINE");
  if (!uf || !rp || !dt) usage();
  bool f = true, r = true, d = true;
  int c;
  ::opterr = 0;
  while ((c = ::getopt(argc, argv, "+frdFRD")) != -1) {
    switch (c) {
      case 'f': f = false; break;
      case 'r': r = false; break;
      case 'd': d = false; break;
      case 'F': f = true; break;
      case 'R': r = true; break;
      case 'D': d = true; break;
      default: usage();
    }
  }
  if (::optind >= argc) usage();
  int pi[2];
  if (::pipe(pi) != 0) spawn::die(111, "preline: fatal: unable to create pipe: " + reactor::errno_text(errno));
  pid_t pid = ::fork();
  if (pid < 0) spawn::die(111, "preline: fatal: unable to fork: " + reactor::errno_text(errno));
  if (pid == 0) {
    ::close(pi[1]);
    if (::dup2(pi[0], 0) < 0) spawn::die(111, "preline: fatal: unable to set up fds");
    ::close(pi[0]);
    ::signal(SIGPIPE, SIG_DFL);
    ::execvp(argv[optind], argv + optind);
    int e = errno;
    spawn::die(spawn::errno_is_temporary(e) ? 111 : 100,
               std::string("preline: fatal: unable to run ") + argv[optind] + ": " + reactor::errno_text(e));
  }
  ::close(pi[0]);
  bool ok = reactor::write_all(pi[1], spawn::preline_header(f, r, d, uf, rp, dt));
  char buf[65536];
  while (ok) {
    ssize_t n = reactor::read_some(0, buf, sizeof buf);
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    ok = reactor::write_all(pi[1], std::string_view(buf, static_cast<size_t>(n)));
  }
  // A command that stops reading early (or never ran) closes the pipe: its
  // exit code then tells the story, as with qmail's unchecked final flush.
  if (!ok && errno != EPIPE) spawn::die(111, "preline: fatal: unable to copy input: " + reactor::errno_text(errno));
  ::close(pi[1]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) spawn::die(111, "preline: fatal: wait failed");
  if (!WIFEXITED(st)) spawn::die(111, "preline: fatal: child crashed");
  return WEXITSTATUS(st);
}
