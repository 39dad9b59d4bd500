// libev driver of a protocol Session over fds 0/1 (see smtpd_driver.h).
#include "smtp/smtpd_driver.h"

#include <algorithm>
#include <cerrno>
#include <functional>
#include <limits>
#include <poll.h>
#include <unistd.h>

#include "reactor/fd.h"
#include "reactor/loop.h"

namespace smtp {

namespace {
// qmail's timeoutwrite(): the reply goes out completely within the timeout
// or the session ends. fd 0 and 1 may share one non-blocking socket.
bool write_timed(int fd, std::string_view data, double timeout) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd p = {fd, POLLOUT, 0};
      int r = ::poll(&p, 1, static_cast<int>(timeout * 1000));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}
}  // namespace

void run_session(Session& s, DriverOptions opt, int rfd, int wfd) {
  reactor::Loop loop;
  reactor::set_nonblock(rfd);
  loop.update_now();
  const double started = loop.now();
  double last_read = started;
  bool done = false;

  auto flush = [&] {
    do {
      std::string o = s.take_output();
      if (!o.empty() && !write_timed(wfd, o, opt.idle_timeout)) done = true;
    } while (!done && s.output_pending());
    if (s.closed()) done = true;
    if (done) loop.break_loop();
  };

  // One lazy timer: reads only move the stamp; the timer re-arms itself for
  // the remainder (libev's "be smart about timeouts").
  std::function<void()> arm_deadline;
  reactor::Timer deadline(loop, [&] {
    double now = loop.now();
    bool idle = opt.idle_timeout > 0 && now >= last_read + opt.idle_timeout;
    bool life = opt.lifetime > 0 && now >= started + opt.lifetime;
    if (idle || life) {
      s.timeout();
      flush();
      done = true;
      loop.break_loop();
      return;
    }
    arm_deadline();
  });
  arm_deadline = [&] {
    const double inf = std::numeric_limits<double>::infinity();
    double at = opt.idle_timeout > 0 ? last_read + opt.idle_timeout : inf;
    if (opt.lifetime > 0) at = std::min(at, started + opt.lifetime);
    if (at != inf) deadline.start(at - loop.now());
  };

  reactor::Io reader(loop, [&](int) {
    char buf[16384];
    ssize_t n = ::read(rfd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      s.eof();
      done = true;
      loop.break_loop();
      return;
    }
    if (n == 0) {
      s.eof();
      flush();
      done = true;
      loop.break_loop();
      return;
    }
    last_read = loop.now();
    s.feed(std::string_view(buf, static_cast<size_t>(n)));
    flush();
    if (!done && !deadline.active()) arm_deadline();
  });

  flush();  // the greeting
  if (done) return;
  reader.start(rfd, EV_READ);
  arm_deadline();
  loop.run();
}

}  // namespace smtp
