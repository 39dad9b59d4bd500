// qmail-popup's driver (see popup_run.h).
#include "pop3/popup_run.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <sys/wait.h>
#include <unistd.h>

#include "pop3/line_io.h"
#include "pop3/popup.h"
#include "pop3/tls_relay.h"
#include "reactor/fd.h"

namespace pop3 {

double fail_delay() {
  const char* d = std::getenv("POPUP_FAILDELAY");
  if (!d || !*d) return 2.0;
  char* end = nullptr;
  double v = std::strtod(d, &end);
  if (end == d || v < 0 || v > 600) return 2.0;
  return v;
}

int preauth_lifetime() {
  const char* d = std::getenv("POPUP_LIFETIME");
  if (!d || !*d) return kPreauthLifetime;
  char* end = nullptr;
  long v = std::strtol(d, &end, 10);
  if (end == d || *end || v < 1 || v > 86400) return kPreauthLifetime;
  return int(v);
}

int run_checkpassword(char** childargs, const std::string& input) {
  int pi[2];
  if (::pipe(pi) != 0) return -1;
  pid_t pid = ::fork();
  if (pid < 0) { ::close(pi[0]); ::close(pi[1]); return -1; }
  if (pid == 0) {
    // The checkpassword interface: the block arrives on fd 3; fd 0/1 stay
    // the client's connection and fd 2 the log.
    ::close(pi[1]);
    if (pi[0] != 3) {
      if (::dup2(pi[0], 3) < 0) ::_exit(111);
      ::close(pi[0]);
    }
    ::signal(SIGPIPE, SIG_DFL);
    ::execvp(childargs[0], childargs);
    ::_exit(111);
  }
  ::close(pi[0]);
  reactor::write_all(pi[1], input);  // a child that does not read may close early
  ::close(pi[1]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

namespace {

// A login name fit for a log line: printable ASCII only, bounded.
std::string loggable(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

void log_failure(const std::string& user, const char* why) {
  const char* ip = std::getenv("TCPREMOTEIP");
  std::string line = "qmail-popup: login failed for user '" + loggable(user) + "'";
  if (ip) line += std::string(" from ") + ip;
  line += std::string(": ") + why + "\n";
  reactor::write_all(2, line);
}

void sleep_seconds(double s) {
  struct timespec ts;
  ts.tv_sec = time_t(s);
  ts.tv_nsec = long((s - double(ts.tv_sec)) * 1e9);
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

}  // namespace

int run_popup(const char* hostname, char** childargs, int timeout) {
  ::signal(SIGPIPE, SIG_IGN);
  PopupTlsConfig tlscfg = load_tls_config();
  PopupTls tls;
  tls.available = tlscfg.ctx != nullptr;
  tls.force = tlscfg.force;
  if (tlscfg.implicit) {
    // POP3S: no certificate, no service (never fall back to plaintext).
    if (!tlscfg.ctx) return 1;
    if (!start_tls_relay(tlscfg.ctx, timeout, false)) return 1;
    tls.active = true;
  }
  Popup popup(hostname, long(::getpid()), int64_t(std::time(nullptr)), true, tls);
  if (!write_timeout(1, popup.greeting(), timeout)) return 1;
  // One byte at a time: whatever follows PASS belongs to qmail-pop3d.
  LineReader in(0, timeout, 1024, true);
  // [WEAKNESS] qmail-popup waits 1200 s per command and no longer than that
  // in all only by accident: NOOPs could hold a root process (and a
  // tcpserver -c slot) forever. The whole authorization state is bounded.
  in.set_deadline(std::time(nullptr) + preauth_lifetime());
  for (;;) {
    auto line = in.next();
    if (!line) {
      if (in.overlong()) write_timeout(1, "-ERR line too long\r\n", timeout);
      else if (in.expired()) write_timeout(1, "-ERR autologout: time limit exceeded\r\n", timeout);
      return 1;
    }
    PopupAction a = popup.command(*line);
    wipe(*line);
    if (!a.authenticate) {
      if (!write_timeout(1, a.reply, timeout)) return 1;
      if (a.quit) return 1;
      if (a.start_tls) {
        // Reading byte by byte left whatever followed STLS in the socket; the
        // relay drops it before the ClientHello, so it is never executed.
        if (!start_tls_relay(tlscfg.ctx, timeout, true)) return 1;
        popup.tls_started();
        in = LineReader(0, timeout, 1024, true);
        in.set_deadline(std::time(nullptr) + preauth_lifetime());
      }
      continue;
    }
    std::string input = checkpassword_input(a.user, a.pass, popup.timestamp());
    wipe(a.pass);
    int status = run_checkpassword(childargs, input);
    wipe(input);
    if (status == -1) {
      write_timeout(1, "-ERR unable to fork\r\n", timeout);
      return 1;
    }
    if (WIFSIGNALED(status)) {
      log_failure(a.user, "checkpassword crashed");
      write_timeout(1, "-ERR aack, child crashed\r\n", timeout);
    } else if (WEXITSTATUS(status) != 0) {
      std::string why = "checkpassword exit " + std::to_string(WEXITSTATUS(status));
      log_failure(a.user, why.c_str());
      // Slow down password guessing; one process per connection, so
      // sleeping here blocks no one else.
      sleep_seconds(fail_delay());
      write_timeout(1, "-ERR authorization failed\r\n", timeout);
    }
    // One authentication attempt per connection, as qmail-popup.
    return 1;
  }
}

}  // namespace pop3
