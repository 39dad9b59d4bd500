// The real SmtpdPolicy (see smtpd_policy.h).
#include "smtp/smtpd_policy.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "reactor/child.h"
#include "reactor/fd.h"
#include "smtp/route.h"

namespace smtp {

reactor::Result<std::set<std::string>> local_ip_addresses() {
  auto ifs = interface_addresses();
  if (!ifs) return ifs.error();
  std::set<std::string> ips{"127.0.0.1"};
  ips.insert(ifs->begin(), ifs->end());
  return ips;
}

reactor::Result<unsigned long> QueuePolicy::queue_open() {
  qq_ = std::make_unique<queue::QueueClient>();
  // qmail-queued when it runs ($QMAILQUEUE, if set, is always honoured).
  reactor::Status st = qq_->start(false, true);
  if (!st) {
    qq_.reset();
    return st.error();
  }
  return static_cast<unsigned long>(qq_->pid());
}

void QueuePolicy::queue_put(std::string_view bytes) {
  if (qq_) qq_->put(bytes);
}

reactor::Status QueuePolicy::queue_finish(const std::string& from, const std::vector<std::string>& to) {
  if (!qq_) return reactor::temp_error("qq not started (#4.3.0)");
  qq_->from(from);
  for (const auto& t : to) qq_->to(t);
  reactor::Status r = qq_->finish();
  qq_.reset();
  return r;
}

std::time_t QueuePolicy::now() { return std::time(nullptr); }

unsigned long QueuePolicy::pid() { return static_cast<unsigned long>(::getpid()); }

void QueuePolicy::log(std::string_view text) {
  std::string l = log_name_ + ": " + std::string(text) + "\n";
  reactor::write_all(2, l);
}

namespace {
// Waits for `pid` at most `seconds`; kills it after that. nullopt: killed or lost.
std::optional<reactor::ExitStatus> wait_bounded(pid_t pid, int seconds) {
  int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pfd >= 0) {
    struct pollfd p = {pfd, POLLIN, 0};
    int r;
    do r = ::poll(&p, 1, seconds * 1000);
    while (r < 0 && errno == EINTR);
    ::close(pfd);
    if (r == 0) ::kill(pid, SIGKILL);
  }
  auto st = reactor::wait_child(pid);
  if (!st || (st->signaled && st->signal == SIGKILL)) return std::nullopt;
  return *st;
}
}  // namespace

// The checkpassword interface of the smtp-auth patches: the name, the
// password (or the CRAM-MD5 digest) and the challenge, each ending in NUL,
// on fd 3. Exit 0 accepts, 111 (or a crash) is a temporary failure, any
// other code refuses. fd 0 is /dev/null and fd 1 the log, so neither the
// checkpassword nor the program it runs can talk to the client.
AuthVerdict QueuePolicy::auth_check(const std::string& user, const std::string& secret,
                                    const std::string& challenge) {
  if (checkpassword_.empty()) return AuthVerdict::temporary;
  int pi[2];
  if (::pipe2(pi, O_CLOEXEC) != 0) return AuthVerdict::temporary;
  reactor::UniqueFd rd(pi[0]), wr(pi[1]);
  reactor::UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null.valid()) return AuthVerdict::temporary;
  reactor::ChildSpec spec;
  spec.argv = checkpassword_;
  spec.fds = {{0, null.get()}, {1, 2}, {3, rd.get()}};
  auto child = reactor::spawn_child(spec);
  if (!child) {
    log("auth: unable to run " + checkpassword_[0] + ": " + child.error().text);
    return AuthVerdict::temporary;
  }
  rd.reset();
  std::string block = user;
  block += '\0';
  block += secret;
  block += '\0';
  block += challenge;
  block += '\0';
  // At most 512 bytes: the pipe takes them without blocking. A checkpassword
  // that exits unread gives EPIPE (SIGPIPE is ignored), which is harmless.
  (void)reactor::write_all(wr.get(), block);
  ::explicit_bzero(block.data(), block.size());
  wr.reset();
  auto st = wait_bounded(*child, auth_timeout_);
  if (!st) {
    log("auth: " + checkpassword_[0] + " did not finish");
    return AuthVerdict::temporary;
  }
  if (st->signaled || st->code == 111) return AuthVerdict::temporary;
  return st->code == 0 ? AuthVerdict::ok : AuthVerdict::rejected;
}

// What the patches export for qmail-queue and the programs after it.
void QueuePolicy::authenticated(const std::string& user, std::string_view method) {
  if (user.empty()) {
    for (const char* v : {"SMTPAUTHUSER", "SMTP_AUTH_USER", "SMTPAUTHMETHOD", "TCPREMOTEINFO"}) ::unsetenv(v);
    if (set_relayclient_) ::unsetenv("RELAYCLIENT");
    set_relayclient_ = false;
    return;
  }
  ::setenv("SMTPAUTHUSER", user.c_str(), 1);
  ::setenv("SMTP_AUTH_USER", user.c_str(), 1);
  ::setenv("SMTPAUTHMETHOD", std::string(method).c_str(), 1);
  ::setenv("TCPREMOTEINFO", user.c_str(), 1);
  if (!std::getenv("RELAYCLIENT")) {
    ::setenv("RELAYCLIENT", "", 1);
    set_relayclient_ = true;
  }
}

}  // namespace smtp
