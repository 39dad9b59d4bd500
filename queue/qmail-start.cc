// qmail-start [defaultdelivery [logger args...]] (tools.md 9, queue.md 4.10):
// creates the pipes, starts qmail-lspawn, qmail-rspawn, qmail-clean,
// qmail-queued and the optional logger, then becomes qmail-send. Prints nothing, even on failure.
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include "queue/home.h"
#include "queue/spawn_proto.h"

namespace {

// A pipe whose ends sit above the descriptors 0..6 that are being arranged.
bool high_pipe(int p[2]) {
  int t[2];
  if (::pipe(t) != 0) return false;
  p[0] = ::fcntl(t[0], F_DUPFD_CLOEXEC, 10);
  p[1] = ::fcntl(t[1], F_DUPFD_CLOEXEC, 10);
  ::close(t[0]);
  ::close(t[1]);
  return p[0] >= 0 && p[1] >= 0;
}

// In a child: puts `fds[i]` on descriptor i, drops to the account, execs.
[[noreturn]] void run(const int* fds, int n, const char* const* argv, bool path_search,
                      bool drop, queue::Account a, queue::Group g) {
  for (int i = 0; i < n; ++i)
    if (::dup2(fds[i], i) < 0) ::_exit(111);
  if (drop && !queue::drop_to(a, g)) ::_exit(111);
  if (path_search) ::execvp(argv[0], const_cast<char* const*>(argv));
  else ::execv(argv[0], const_cast<char* const*>(argv));
  ::_exit(111);
}

pid_t spawn(const int* fds, int n, const char* const* argv, bool path_search, bool drop,
            queue::Account a, queue::Group g) {
  pid_t pid = ::fork();
  if (pid == 0) run(fds, n, argv, path_search, drop, a, g);
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  if (!queue::chdir_home()) return 111;
  int logfd = ::fcntl(1, F_DUPFD_CLOEXEC, 10);
  if (logfd < 0) return 111;
  if (argc > 2) {
    // The logger reads qmail-send's log on its stdin and runs as qmaill.
    int lp[2];
    if (!high_pipe(lp)) return 111;
    int fds[3] = {lp[0], logfd, logfd};
    if (spawn(fds, 3, argv + 2, true, true, queue::Account::qmaill, queue::Group::nofiles) < 0) return 111;
    ::close(lp[0]);
    ::close(logfd);
    logfd = lp[1];
  }
  int l_req[2], l_rep[2], r_req[2], r_rep[2], c_req[2], c_rep[2];
  if (!high_pipe(l_req) || !high_pipe(l_rep) || !high_pipe(r_req) || !high_pipe(r_rep) ||
      !high_pipe(c_req) || !high_pipe(c_rep))
    return 111;

  const char* delivery = argc > 1 ? argv[1] : "./Mailbox";
  const char* lspawn[] = {"bin/qmail-lspawn", delivery, nullptr};
  const char* rspawn[] = {"bin/qmail-rspawn", nullptr};
  const char* clean[] = {"bin/qmail-clean", nullptr};
  int lf[3] = {l_req[0], l_rep[1], logfd};
  int rf[3] = {r_req[0], r_rep[1], logfd};
  int cf[3] = {c_req[0], c_rep[1], logfd};
  // Our qmail-send understands the wide spawn hello (spawn_proto.h); a
  // third-party spawner ignores the variable and speaks the classic form.
  ::setenv(queue::proto::kWideEnv, "1", 1);
  // qmail-lspawn stays root: it must switch to each recipient's uid.
  if (spawn(lf, 3, lspawn, false, false, queue::Account::qmails, queue::Group::qmail) < 0) return 111;
  if (spawn(rf, 3, rspawn, false, true, queue::Account::qmailr, queue::Group::qmail) < 0) return 111;
  if (spawn(cf, 3, clean, false, true, queue::Account::qmailq, queue::Group::qmail) < 0) return 111;

  ::unsetenv(queue::proto::kWideEnv);
  // qmail-queued takes qmail-smtpd's and qmail-qmtpd's messages in place of
  // a qmail-queue per message; it leaves when this process (qmail-send) does.
  // Without it (not installed, or failing) they run qmail-queue as before.
  std::string me = std::to_string(::getpid());
  const char* queued[] = {"bin/qmail-queued", "-p", me.c_str(), nullptr};
  int nul = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (nul >= 0) {
    int qf[3] = {nul, logfd, logfd};
    spawn(qf, 3, queued, false, true, queue::Account::qmailq, queue::Group::qmail);
    ::close(nul);
  }
  // This process becomes qmail-send, so its pid is qmail-send's pid.
  int sf[7] = {logfd, l_req[1], l_rep[0], r_req[1], r_rep[0], c_req[1], c_rep[0]};
  const char* send[] = {"bin/qmail-send", nullptr};
  run(sf, 7, send, false, true, queue::Account::qmails, queue::Group::qmail);
}
