// qmail-queue: queues one message (fd 0) with its envelope (fd 1) and exits
// with qmail's codes (queue.md 2). Installed setuid qmailq: the home comes
// from queue::qmail_home(), which ignores $QMAILHOME in a setuid process, and
// $QMAILQUEUE is never looked at here (it is for our callers).
#include <csignal>
#include <ctime>
#include <optional>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/home.h"
#include "queue/qq.h"
#include "queue/queue_writer.h"
#include "reactor/fd.h"

// qmail-queued takes messages for this program only while bin/qmail-queue
// carries this mark: a wrapper installed in its place (a scanner, a filter)
// keeps seeing every message, as before.
extern "C" [[gnu::used]] const char evq_qmail_queue_mark[] = EVQ_QUEUED_MARK;

namespace {

void die_timeout(int) { ::_exit(queue::qq_exit::kTimeout); }  // no cleanup: qmail-send's job
void die_bug(int) { ::_exit(queue::qq_exit::kBug); }

}  // namespace

int main() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s : {SIGPIPE, SIGVTALRM, SIGPROF, SIGQUIT, SIGINT, SIGHUP, SIGXCPU, SIGXFSZ})
    std::signal(s, SIG_IGN);
  for (int s : {SIGILL, SIGABRT, SIGFPE, SIGBUS, SIGSEGV, SIGSYS}) std::signal(s, die_bug);
  std::signal(SIGALRM, die_timeout);
  ::umask(033);

  if (::chdir(queue::qmail_home().c_str()) != 0) ::_exit(queue::qq_exit::kHome);
  // control/queueextra: run-time QUEUE_EXTRA (FAQ 8.2). qmail-queue itself has
  // no "cannot read configuration" code; 55 is the one qmail.c already maps to
  // "qq unable to read configuration", a temporary failure, so callers retry.
  auto extra = queue::read_queue_extra("control/queueextra");
  if (!extra) ::_exit(queue::qq_exit::kConfig);
  if (::chdir("queue") != 0) ::_exit(queue::qq_exit::kQueueDir);

  queue::QueueJob job;
  job.uid = ::getuid();
  job.pid = static_cast<unsigned long>(::getpid());
  job.now = std::time(nullptr);
  job.how = queue::received_how(job.uid, queue::installed_uid(queue::Account::alias),
                                queue::installed_uid(queue::Account::qmaild),
                                queue::installed_uid(queue::Account::qmails));
  job.extra = std::move(*extra);

  ::alarm(queue::kQqDeath);
  queue::QueueResult r = queue::inject_message(AT_FDCWD, 0, 1, job);
  ::_exit(r.code);
}
