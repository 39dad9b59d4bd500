// setlock [-nNxX] file program [arg ...] (daemontools): opens `file` for
// appending (creating it), takes an exclusive flock and execs the program,
// which inherits the locked descriptor (spec/serialmail.md 5).
//   -n  give up if the lock is busy      -N  wait for it (default)
//   -x  exit 0 silently if `file` cannot be opened or locked
//   -X  print an error and exit 111 then (default)
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace {

[[noreturn]] void usage() {
  std::fprintf(stderr, "setlock: usage: setlock [ -nNxX ] file program [ arg ... ]\n");
  _exit(100);
}

[[noreturn]] void fail(bool quiet, const char* what, const char* name) {
  if (quiet) _exit(0);
  std::fprintf(stderr, "setlock: fatal: unable to %s %s: %s\n", what, name, std::strerror(errno));
  _exit(111);
}

}  // namespace

int main(int argc, char** argv) {
  bool nonblock = false, quiet = false;
  int opt;
  // '+': stop at the first non-option, the program's own flags are its own.
  while ((opt = ::getopt(argc, argv, "+nNxX")) != -1) {
    switch (opt) {
      case 'n': nonblock = true; break;
      case 'N': nonblock = false; break;
      case 'x': quiet = true; break;
      case 'X': quiet = false; break;
      default: usage();
    }
  }
  if (argc - optind < 2) usage();
  const char* file = argv[optind];
  char** prog = argv + optind + 1;
  // daemontools' open_append; no O_CLOEXEC: the program must keep the lock.
  int fd = ::open(file, O_WRONLY | O_NDELAY | O_APPEND | O_CREAT, 0600);
  if (fd < 0) fail(quiet, "open", file);
  int r;
  do {
    r = ::flock(fd, LOCK_EX | (nonblock ? LOCK_NB : 0));
  } while (r != 0 && errno == EINTR);
  if (r != 0) fail(quiet, "lock", file);
  ::execvp(prog[0], prog);
  std::fprintf(stderr, "setlock: fatal: unable to run %s: %s\n", prog[0], std::strerror(errno));
  return 111;
}
