// qmail-queue client (see qq.h).
#include "queue/qq.h"

#include <cerrno>
#include <csignal>
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "queue/home.h"
#include "queue/queue_writer.h"

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
  if (pid_ > 0 && !sock_.valid()) {
    int st;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {}
  }
}

namespace {

// write_all without SIGPIPE: a daemon that went away must not kill the caller.
bool send_all(int fd, std::string_view b) {
  while (!b.empty()) {
    ssize_t w = ::send(fd, b.data(), b.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    b.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

// The daemon's greeting must come at once (it answers from its loop, which
// never waits for the disk); a daemon that does not answer in time is
// treated as absent.
constexpr int kGreetingMillis = 5000;

}  // namespace

bool QueueClient::connect_daemon() {
  struct sockaddr_un sa = {};
  sa.sun_family = AF_UNIX;
  std::string path = home_path(kQueuedSocket);
  if (path.size() >= sizeof sa.sun_path) return false;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  // Non-blocking connect: a full backlog (a busy or stuck daemon) gives
  // EAGAIN at once instead of a wait.
  reactor::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return false;
  if (::connect(fd.get(), reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) != 0) return false;
  struct pollfd p = {fd.get(), POLLIN, 0};
  int r;
  do r = ::poll(&p, 1, kGreetingMillis);
  while (r < 0 && errno == EINTR);
  char c = 0;
  if (r != 1 || ::read(fd.get(), &c, 1) != 1 || c != 'Y') return false;
  int fl = ::fcntl(fd.get(), F_GETFL);
  if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) != 0) return false;
  sock_ = std::move(fd);
  return true;
}

reactor::Status QueueClient::start(bool ignore_env, bool via_daemon) {
  std::string prog = home_path("bin/qmail-queue");
  const char* q = ignore_env ? nullptr : std::getenv("QMAILQUEUE");
  if (q && *q) prog = q;
  else if (via_daemon && !ignore_env && connect_daemon()) {
    pid_ = ::getpid();
    return {};
  }
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

void QueueClient::flush_frame() {
  if (frame_.size() <= 4) return;
  uint32_t n = static_cast<uint32_t>(frame_.size() - 4);
  frame_[0] = static_cast<char>(n >> 24);
  frame_[1] = static_cast<char>(n >> 16);
  frame_[2] = static_cast<char>(n >> 8);
  frame_[3] = static_cast<char>(n);
  if (!write_failed_ && !send_all(sock_.get(), frame_)) write_failed_ = true;
  frame_.assign(4, '\0');
}

void QueueClient::put(std::string_view bytes) {
  if (sock_.valid()) {
    // Frames of up to kQueuedFrame bytes; small puts (lines) share one.
    if (frame_.empty()) frame_.assign(4, '\0');
    while (!bytes.empty()) {
      size_t room = kQueuedFrame - (frame_.size() - 4);
      size_t n = std::min(room, bytes.size());
      frame_.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      if (frame_.size() - 4 == kQueuedFrame) flush_frame();
    }
    return;
  }
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

// The end frame and the envelope in one write, then the one-byte answer.
// A daemon that goes away first queued nothing: like a qmail-queue that
// crashed, a temporary failure.
reactor::Status QueueClient::finish_daemon() {
  flush_frame();
  std::string tail(4, '\0');
  tail += "F" + sender_ + std::string(1, '\0') + rcpts_ + std::string(1, '\0');
  if (!write_failed_ && !send_all(sock_.get(), tail)) write_failed_ = true;
  unsigned char code = qq_exit::kBug;
  ssize_t r;
  do r = ::read(sock_.get(), &code, 1);
  while (r < 0 && errno == EINTR);
  sock_.reset();
  pid_ = -1;
  if (r != 1) code = qq_exit::kBug;
  if (code == 0) return {};
  std::string text = qq_exit_text(code);
  return reactor::Error{text[0] != 'D', text.substr(1)};
}

reactor::Status QueueClient::finish() {
  if (sock_.valid()) return finish_daemon();
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
