// Child processes (see child.h).
#include "reactor/child.h"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reactor/fd.h"

extern char** environ;

namespace reactor {

namespace {
// Reports errno from the child to the parent and exits; async-signal-safe.
[[noreturn]] void child_fail(int report_fd, int err) {
  ssize_t n = ::write(report_fd, &err, sizeof err);
  (void)n;
  _exit(111);
}

std::vector<char*> c_vector(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}
}  // namespace

void reset_signals_for_exec() {
  for (int sig : {SIGPIPE, SIGCHLD, SIGTERM, SIGALRM, SIGHUP}) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

Result<pid_t> spawn_child(const ChildSpec& spec) {
  if (spec.argv.empty()) return perm_error("spawn_child: empty argv");
  // Everything the child needs is prepared before fork: between fork and exec
  // the child only makes system calls (no allocation, no locks).
  std::vector<char*> argv = c_vector(spec.argv);
  std::vector<char*> envp;
  if (spec.env) envp = c_vector(*spec.env);
  int top = 2;
  for (auto& m : spec.fds) top = std::max(top, m.first);
  int report[2];
  if (pipe2(report, O_CLOEXEC) == -1) return temp_error("unable to create pipe: " + errno_text(errno));

  pid_t pid = fork();
  if (pid == -1) {
    int e = errno;
    ::close(report[0]);
    ::close(report[1]);
    return temp_error("unable to fork: " + errno_text(e));
  }
  if (pid == 0) {
    reset_signals_for_exec();
    if (spec.new_session) setsid();
    // Two passes so that maps like {0 <- 1, 1 <- 0} work: first lift every
    // source above all targets (and above the report pipe), then place them.
    int lift = std::max(top, report[1]) + 1;
    std::vector<int>::size_type i = 0;
    int tmp[64];
    if (spec.fds.size() > 64) child_fail(report[1], EMFILE);
    for (auto& m : spec.fds) {
      tmp[i] = -1;
      if (m.second >= 0) {
        tmp[i] = fcntl(m.second, F_DUPFD_CLOEXEC, lift);
        if (tmp[i] == -1) child_fail(report[1], errno);
      }
      ++i;
    }
    i = 0;
    for (auto& m : spec.fds) {
      if (tmp[i] == -1) ::close(m.first);
      else if (dup2(tmp[i], m.first) == -1) child_fail(report[1], errno);
      ++i;
    }
    if (spec.gid) {
      gid_t g = *spec.gid;
      if (setgroups(1, &g) == -1 || setgid(g) == -1) child_fail(report[1], errno);
    }
    if (spec.uid && setuid(*spec.uid) == -1) child_fail(report[1], errno);
    if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) == -1) child_fail(report[1], errno);
    char** env = spec.env ? envp.data() : environ;
    if (spec.argv[0].find('/') != std::string::npos) execve(argv[0], argv.data(), env);
    else execvpe(argv[0], argv.data(), env);
    child_fail(report[1], errno);
  }
  ::close(report[1]);
  int err = 0;
  ssize_t n;
  do n = ::read(report[0], &err, sizeof err);
  while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof err)) {
    // The child is gone already; collect it so it does not linger.
    int st;
    while (waitpid(pid, &st, 0) == -1 && errno == EINTR) {
    }
    bool missing = err == ENOENT || err == EACCES || err == ENOEXEC;
    std::string text = "unable to run " + spec.argv[0] + ": " + errno_text(err);
    return missing ? perm_error(text) : temp_error(text);
  }
  return pid;
}

ExitStatus decode_status(int status) {
  ExitStatus s;
  if (WIFSIGNALED(status)) {
    s.signaled = true;
    s.signal = WTERMSIG(status);
  } else if (WIFEXITED(status)) {
    s.code = WEXITSTATUS(status);
  }
  return s;
}

std::string to_string(const ExitStatus& s) {
  return s.signaled ? "signal " + std::to_string(s.signal) : "exit " + std::to_string(s.code);
}

Result<ExitStatus> wait_child(pid_t pid) {
  int status;
  for (;;) {
    if (waitpid(pid, &status, 0) != -1) return decode_status(status);
    if (errno != EINTR) return temp_error("unable to wait for child: " + errno_text(errno));
  }
}

}  // namespace reactor
