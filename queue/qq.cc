// qmail-queue client (see qq.h).
#include "queue/qq.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "queue/home.h"

namespace queue {

std::string qq_exit_text(int code) {
  switch (code) {
    case 11: return "Denvelope address too long for qq (#5.1.3)";
    case 31: return "Dmail server permanently rejected message (#5.3.0)";
    case 51: return "Zqq out of memory (#4.3.0)";
    case 52: return "Zqq timeout (#4.3.0)";
    case 53: return "Zqq write error or disk full (#4.3.0)";
    case 54: return "Zqq read error (#4.3.0)";
    case 55: return "Zqq unable to read configuration (#4.3.0)";
    case 56: return "Zqq trouble making network connection (#4.3.0)";
    case 61: return "Zqq trouble in home directory (#4.3.0)";
    case 62: case 63: case 64: case 65: case 66:
      return "Zqq trouble creating files in queue (#4.3.0)";
    case 71: return "Zmail server temporarily rejected message (#4.3.0)";
    case 72: return "Zconnection to mail server timed out (#4.4.1)";
    case 73: return "Zconnection to mail server rejected (#4.4.1)";
    case 74: return "Zcommunication with mail server failed (#4.4.2)";
    case 81: case 91: return "Zqq internal bug (#4.3.0)";
    default:
      if (code >= 11 && code <= 40) return "Dqq permanent problem (#5.3.0)";
      return "Zqq temporary problem (#4.3.0)";
  }
}

QueueClient::~QueueClient() {
  msg_.reset();
  env_.reset();
  if (pid_ > 0) {
    int st;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {}
  }
}

reactor::Status QueueClient::start(bool ignore_env) {
  std::string prog = home_path("bin/qmail-queue");
  const char* q = ignore_env ? nullptr : std::getenv("QMAILQUEUE");
  if (q && *q) prog = q;
  int pm[2], pe[2], px[2];
  if (::pipe2(pm, O_CLOEXEC) != 0) return reactor::temp_error("unable to make pipe");
  if (::pipe2(pe, O_CLOEXEC) != 0) {
    ::close(pm[0]); ::close(pm[1]);
    return reactor::temp_error("unable to make pipe");
  }
  if (::pipe2(px, O_CLOEXEC) != 0) {
    ::close(pm[0]); ::close(pm[1]); ::close(pe[0]); ::close(pe[1]);
    return reactor::temp_error("unable to make pipe");
  }
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(pm[0]); ::close(pm[1]); ::close(pe[0]); ::close(pe[1]); ::close(px[0]); ::close(px[1]);
    return reactor::temp_error("unable to fork");
  }
  if (pid_ == 0) {
    // fd 0 message, fd 1 envelope, fd 6 custom error text (exit 82).
    int m = ::fcntl(pm[0], F_DUPFD_CLOEXEC, 10), e = ::fcntl(pe[0], F_DUPFD_CLOEXEC, 10),
        x = ::fcntl(px[1], F_DUPFD_CLOEXEC, 10);
    if (m < 0 || e < 0 || x < 0 || ::dup2(m, 0) < 0 || ::dup2(e, 1) < 0 || ::dup2(x, 6) < 0) ::_exit(120);
    ::signal(SIGPIPE, SIG_DFL);
    ::execl(prog.c_str(), prog.c_str(), static_cast<char*>(nullptr));
    ::_exit(120);
  }
  ::close(pm[0]);
  ::close(pe[0]);
  ::close(px[1]);
  msg_.reset(pm[1]);
  env_.reset(pe[1]);
  err_.reset(px[0]);
  return {};
}

void QueueClient::put(std::string_view bytes) {
  if (write_failed_ || !msg_.valid()) return;
  if (!reactor::write_all(msg_.get(), bytes)) write_failed_ = true;
}

void QueueClient::put_fd(int fd) {
  char buf[65536];
  for (;;) {
    ssize_t r = reactor::read_some(fd, buf, sizeof buf);
    if (r < 0) { write_failed_ = true; return; }
    if (r == 0) return;
    put(std::string_view(buf, static_cast<size_t>(r)));
  }
}

void QueueClient::to(std::string_view recipient) {
  rcpts_ += 'T';
  rcpts_.append(recipient);
  rcpts_ += '\0';
}

reactor::Status QueueClient::finish() {
  if (pid_ <= 0) return reactor::temp_error("qq not started (#4.3.0)");
  msg_.reset();
  std::string env = "F" + sender_ + std::string(1, '\0') + rcpts_ + std::string(1, '\0');
  if (env_.valid() && !reactor::write_all(env_.get(), env)) write_failed_ = true;
  env_.reset();
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0) {
    if (errno != EINTR) { st = -1; break; }
  }
  pid_ = -1;
  std::string custom;
  if (err_.valid()) {
    reactor::read_all(err_.get(), custom, 1000);
    err_.reset();
  }
  int code;
  if (st == -1 || !WIFEXITED(st)) code = 81;
  else code = WEXITSTATUS(st);
  if (code == 0) return {};
  std::string text;
  if (code == 82 && !custom.empty() && (custom[0] == 'D' || custom[0] == 'Z')) {
    text = custom.substr(0, custom.find('\n'));
  } else if (code == 120) {
    text = "Zunable to run qmail-queue (#4.3.0)";
  } else {
    text = qq_exit_text(code);
  }
  return reactor::Error{text[0] != 'D', text.substr(1)};
}

}  // namespace queue
