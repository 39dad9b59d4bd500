// qmail-send: the queue manager (queue.md 4). Started by qmail-start with the
// log on fd 0, qmail-lspawn on fds 1/2, qmail-rspawn on 3/4, qmail-clean on 5/6.
#include <csignal>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/controls.h"
#include "queue/home.h"
#include "queue/scheduler_loop.h"
#include "reactor/fd.h"
#include "queue/spawn_proto.h"

namespace {
[[noreturn]] void cannot_start(const std::string& why) {
  reactor::write_all(0, "alert: cannot start: " + why + "\n");
  ::_exit(111);
}
}  // namespace

int main() {
  if (!queue::chdir_home()) cannot_start("unable to switch to home directory");
  std::string control_dir = queue::qmail_home() + "/control";
  auto controls = queue::load_controls(control_dir);
  if (!controls) cannot_start("unable to read controls");
  if (::chdir("queue") != 0) cannot_start("unable to switch to queue directory");
  ::signal(SIGPIPE, SIG_IGN);
  ::umask(077);
  int mutex = ::open("lock/sendmutex", O_WRONLY | O_CLOEXEC);
  if (mutex < 0) cannot_start("unable to open mutex");
  if (::flock(mutex, LOCK_EX | LOCK_NB) != 0) cannot_start("qmail-send is already running");
  for (int fd = 0; fd <= 6; ++fd) reactor::set_cloexec(fd);
  // Each spawner first announces how many deliveries it can run at once.
  unsigned cap[2];
  const int hello_fd[2] = {2, 4};
  // A 0 byte starts the wide form: the count follows in two bytes (spawn_proto.h).
  auto byte = [&](int fd) {
    unsigned char ch;
    if (reactor::read_some(fd, reinterpret_cast<char*>(&ch), 1) != 1)
      cannot_start("hath the daemon spawn no fire?");
    return static_cast<unsigned>(ch);
  };
  for (int c = 0; c < 2; ++c) {
    cap[c] = byte(hello_fd[c]);
    if (cap[c] == 0) {
      cap[c] = byte(hello_fd[c]) << 8;
      cap[c] |= byte(hello_fd[c]);
    }
  }
  return queue::run_send_loop(std::move(*controls), control_dir, cap);
}
