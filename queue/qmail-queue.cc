// qmail-queue: queues one message (fd 0) with its envelope (fd 1) and exits
// with qmail's codes (queue.md 2). Installed setuid qmailq: the home comes
// from queue::qmail_home(), which ignores $QMAILHOME in a setuid process, and
// $QMAILQUEUE is never looked at here (it is for our callers).
#include <csignal>
#include <ctime>
#include <optional>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/home.h"
#include "queue/queue_writer.h"
#include "reactor/fd.h"

namespace {

void die_timeout(int) { ::_exit(queue::qq_exit::kTimeout); }  // no cleanup: qmail-send's job
void die_bug(int) { ::_exit(queue::qq_exit::kBug); }

// The uid of a qmail account for the Received line. In a single-user tree all
// accounts are the owner, so none is named: "invoked by uid N" for every caller.
// qmail compiles these uids in; we read /etc/passwd once (the accounts that
// setup makes are there), and ask the name service only for an account it
// does not list: a lookup through NSS costs more than the rest of a small
// message's queueing.
std::optional<uid_t> installed_uid(queue::Account a) {
  if (queue::single_user()) return std::nullopt;
  static const std::string passwd = [] {
    auto t = reactor::read_file("/etc/passwd", 4u << 20);
    return t ? *t : std::string();
  }();
  if (auto u = queue::passwd_uid(passwd, queue::account_name(a))) return u;
  const struct passwd* pw = ::getpwnam(queue::account_name(a));
  if (!pw) return std::nullopt;
  return pw->pw_uid;
}

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
  job.how = queue::received_how(job.uid, installed_uid(queue::Account::alias),
                                installed_uid(queue::Account::qmaild),
                                installed_uid(queue::Account::qmails));
  job.extra = std::move(*extra);

  ::alarm(queue::kQqDeath);
  queue::QueueResult r = queue::inject_message(AT_FDCWD, 0, 1, job);
  ::_exit(r.code);
}
