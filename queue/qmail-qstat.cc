// qmail-qstat: how many messages are in the queue and how many of them are
// still waiting in todo/ (tools.md 6). A program instead of qmail's script.
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

#include "queue/home.h"
#include "queue/qread.h"
#include "reactor/fd.h"

int main() {
  auto home = queue::chdir_home();
  if (!home) {
    std::fprintf(stderr, "qmail-qstat: fatal: %s\n", home.error().text.c_str());
    return 111;
  }
  reactor::UniqueFd q(::open("queue", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!q.valid()) {
    std::fprintf(stderr, "qmail-qstat: fatal: unable to open queue: %s\n",
                 reactor::errno_text(errno).c_str());
    return 111;
  }
  auto c = queue::qstat_counts(q.get());
  if (!c) {
    std::fprintf(stderr, "qmail-qstat: fatal: %s\n", c.error().text.c_str());
    return 111;
  }
  return reactor::write_all(1, queue::qstat_text(*c)) ? 0 : 111;
}
