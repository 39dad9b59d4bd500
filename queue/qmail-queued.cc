// qmail-queued [-p pid]: takes messages for qmail-queue over the socket
// queued/socket of the home (doc/qmail-queued.8, protocol in queue/qq.h)
// and commits the messages of concurrent callers together. Runs as qmailq
// (qmail-start starts it with -p, its own pid: it exits with qmail-send).
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "queue/home.h"
#include "queue/qq.h"
#include "queue/queued.h"
#include "queue/syncer.h"
#include "reactor/fd.h"
#include "reactor/loop.h"

namespace {

[[noreturn]] void die(const std::string& text) {
  std::string l = "qmail-queued: fatal: " + text + "\n";
  reactor::write_all(2, l);
  ::_exit(111);
}

// Whether bin/qmail-queue is ours (carries EVQ_QUEUED_MARK), looked at again
// whenever the file changes: a wrapper put in its place gets every message.
class QqMark {
 public:
  bool ours() {
    struct stat st;
    if (::stat("bin/qmail-queue", &st) != 0) return false;
    if (have_ && st.st_dev == last_.st_dev && st.st_ino == last_.st_ino && st.st_size == last_.st_size &&
        st.st_mtim.tv_sec == last_.st_mtim.tv_sec && st.st_mtim.tv_nsec == last_.st_mtim.tv_nsec &&
        st.st_ctim.tv_sec == last_.st_ctim.tv_sec && st.st_ctim.tv_nsec == last_.st_ctim.tv_nsec)
      return ours_;
    last_ = st;
    have_ = true;
    auto text = reactor::read_file("bin/qmail-queue", 256u << 20);
    ours_ = text && text->find(EVQ_QUEUED_MARK) != std::string::npos;
    return ours_;
  }

 private:
  struct stat last_ = {};
  bool have_ = false, ours_ = false;
};

// Binds a fresh socket beside the old one and renames it into place, so a
// caller always finds either the old (refused: run qmail-queue) or the new.
int bind_socket(struct stat* made) {
  std::string tmp = std::string(queue::kQueuedSocket) + ".new";
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) die("unable to make socket: " + std::string(std::strerror(errno)));
  struct sockaddr_un sa = {};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, tmp.c_str(), tmp.size() + 1);
  ::unlink(tmp.c_str());
  if (::bind(fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) != 0)
    die("unable to bind " + tmp + ": " + std::strerror(errno));
  // Anyone may connect, as anyone may run the setuid qmail-queue: the
  // caller's uid from SO_PEERCRED goes into the message as qmail-queue's would.
  if (::chmod(tmp.c_str(), 0777) != 0 || ::listen(fd, SOMAXCONN) != 0 ||
      ::rename(tmp.c_str(), queue::kQueuedSocket) != 0 || ::stat(queue::kQueuedSocket, made) != 0)
    die("unable to set up " + std::string(queue::kQueuedSocket) + ": " + std::strerror(errno));
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  long parent = 0;
  int opt;
  while ((opt = ::getopt(argc, argv, "p:")) != -1) {
    if (opt == 'p') parent = std::atol(optarg);
    else die("usage: qmail-queued [-p pid]");
  }
  if (parent > 0) {
    // Leave with qmail-send; if it is gone already, do not start.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) return 0;
  }
  std::signal(SIGPIPE, SIG_IGN);
  ::umask(033);
  if (!queue::chdir_home()) die("unable to chdir to home");
  int qfd = ::open("queue", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (qfd < 0) die("unable to open queue: " + std::string(std::strerror(errno)));

  // Three descriptors per caller (socket, mess, intd): as many as allowed.
  struct rlimit rl;
  size_t max_conns = 256;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 3 * 256 + 32)
      max_conns = rl.rlim_cur > 64 ? (rl.rlim_cur - 32) / 3 : 8;
  }

  QqMark mark;
  queue::QueuedConfig cfg;
  cfg.queue_dirfd = qfd;
  cfg.alias = queue::installed_uid(queue::Account::alias);
  cfg.qmaild = queue::installed_uid(queue::Account::qmaild);
  cfg.qmails = queue::installed_uid(queue::Account::qmails);
  cfg.extra = [] { return queue::read_queue_extra("control/queueextra"); };
  cfg.ready = [&mark] { return mark.ours(); };
  cfg.max_conns = max_conns;
  cfg.own_pid = static_cast<unsigned long>(::getpid());

  struct stat made;
  reactor::UniqueFd lfd(bind_socket(&made));
  reactor::Loop loop;
  queue::ThreadSyncer syncer(loop);
  queue::QueueDaemon daemon(loop, syncer, cfg);
  auto leave = [&] {
    daemon.shutdown();
    // The name goes with us unless a newer daemon has taken it.
    struct stat st;
    if (::stat(queue::kQueuedSocket, &st) == 0 && st.st_ino == made.st_ino && st.st_dev == made.st_dev)
      ::unlink(queue::kQueuedSocket);
    ::_exit(0);
  };
  reactor::Signal term(loop, SIGTERM, leave);
  // The death signal is not always delivered (it is lost across some
  // credential changes of the family), so also look once a second.
  reactor::Timer orphan(loop, [&] {
    if (::getppid() != parent) leave();
  });
  if (parent > 0) orphan.start(1, 1);
  reactor::Signal hup(loop, SIGHUP, [] {});
  daemon.listen(lfd.get());
  loop.run();
  return 0;
}
