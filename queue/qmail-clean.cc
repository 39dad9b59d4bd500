// qmail-clean: removes finished messages from the queue on request from
// qmail-send (requests on fd 0, one-byte answers on fd 1; queue.md 4.9).
// Runs as qmailq, started by qmail-start; exits when its input closes.
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

#include "queue/clean.h"
#include "queue/home.h"

int main() {
  std::signal(SIGPIPE, SIG_IGN);
  if (!queue::chdir_home()) return 111;
  if (::chdir("queue") != 0) return 111;
  queue::Cleaner cleaner(AT_FDCWD);
  return queue::serve_clean(0, 1, cleaner);
}
