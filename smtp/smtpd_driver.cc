// libev driver of a protocol Session over fds 0/1 (see smtpd_driver.h).
#include "smtp/smtpd_driver.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
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
  std::unique_ptr<reactor::tls::Session> tls;
  bool tls_announced = false;
  auto start_tls = [&] {
    tls = std::make_unique<reactor::tls::Session>(opt.tls, reactor::tls::Session::Role::server);
  };

  auto tls_failed = [&] {
    std::fprintf(stderr, "%s: tls: %s\n", opt.log_name.c_str(), tls->error().c_str());
    done = true;
    loop.break_loop();
  };
  // Ciphertext the TLS layer has for the peer (handshake records included).
  auto send_cipher = [&] {
    std::string c = tls->take_cipher();
    if (!c.empty() && !write_timed(wfd, c, opt.idle_timeout)) done = true;
  };
  // Replies held back by the machine (a failed AUTH waits before its
  // answer); nothing is read while they wait.
  std::string held;
  std::function<void()> resume;
  reactor::Timer hold(loop, [&] { resume(); });
  auto send_plain = [&](const std::string& o) {
    if (o.empty()) return;
    if (!tls) {
      if (!write_timed(wfd, o, opt.idle_timeout)) done = true;
    } else if (!tls->write(o)) {
      tls_failed();
    } else {
      send_cipher();
    }
  };
  auto after_output = [&] {
    // STARTTLS was answered in plaintext; from here on the bytes are TLS.
    if (!done && !tls && opt.tls && s.wants_tls()) start_tls();
    if (s.closed()) {
      if (tls && tls->handshake_done()) {
        tls->shutdown();
        send_cipher();
      }
      done = true;
    }
    if (done) loop.break_loop();
  };
  std::function<void()> start_reading;
  auto flush = [&] {
    do {
      std::string o = s.take_output();
      double d = s.take_delay();
      if (d > 0 || hold.active()) {
        held += o;
        if (!hold.active()) {
          hold.start(d);
        }
        continue;
      }
      send_plain(o);
    } while (!done && s.output_pending());
    if (hold.active()) return;
    after_output();
  };
  resume = [&] {
    std::string o;
    o.swap(held);
    send_plain(o);
    if (!done) flush();  // anything produced meanwhile
    if (!done && !hold.active() && start_reading) start_reading();
  };
  if (opt.tls && opt.implicit_tls) start_tls();

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
    if (!tls) {
      s.feed(std::string_view(buf, static_cast<size_t>(n)));
    } else {
      tls->put_cipher(std::string_view(buf, static_cast<size_t>(n)));
      std::string plain;
      bool ok = tls->read(plain);
      send_cipher();
      if (!ok) return tls_failed();
      if (tls->handshake_done() && !tls_announced) {
        tls_announced = true;
        s.tls_started(tls->cipher());
      }
      if (!plain.empty()) s.feed(plain);
      if (tls->peer_closed()) s.eof();
    }
    flush();
    if (hold.active()) reader.stop();
    if (!done && !deadline.active()) arm_deadline();
  });
  start_reading = [&] { reader.start(rfd, EV_READ); };

  flush();  // the greeting
  if (done) return;
  reader.start(rfd, EV_READ);
  arm_deadline();
  loop.run();
}

}  // namespace smtp
