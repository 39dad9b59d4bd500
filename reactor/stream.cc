// Non-blocking buffered stream over libev (see stream.h).
#include "reactor/stream.h"

#include <algorithm>
#include <cerrno>
#include <limits>
#include <unistd.h>

namespace reactor {

const char* to_string(StreamError e) {
  switch (e) {
    case StreamError::io: return "io";
    case StreamError::idle_timeout: return "timeout";
    case StreamError::lifetime: return "lifetime exceeded";
    case StreamError::line_too_long: return "line too long";
    case StreamError::output_full: return "output buffer full";
  }
  return "?";
}

Stream::Stream(Loop& loop, int rfd, int wfd, StreamOptions opt)
    : loop_(loop),
      opt_(opt),
      rfd_(rfd),
      wfd_(wfd == rfd ? -1 : wfd),
      wfd_raw_(wfd),
      in_(opt.max_in, opt.max_line),
      out_(opt.max_out),
      reader_(loop, [this](int) { on_readable(); }),
      writer_(loop, [this](int) { on_writable(); }),
      timer_(loop, [this] { on_timer(); }) {
  set_nonblock(rfd);
  if (wfd != rfd) set_nonblock(wfd);
}

Stream::~Stream() = default;

void Stream::start() {
  if (closed_) return;
  loop_.update_now();
  started_ = last_activity_ = loop_.now();
  arm_timer();
  update_read_watcher();
}

void Stream::touch() { last_activity_ = loop_.now(); }

// One timer serves both limits.  Activity only moves the stamp; the timer
// notices when it fires and sleeps again for the remainder (libev's "be smart
// about timeouts"), so busy streams never restart it.
void Stream::arm_timer() {
  const double inf = std::numeric_limits<double>::infinity();
  double idle_at = opt_.idle_timeout > 0 ? last_activity_ + opt_.idle_timeout : inf;
  double life_at = opt_.lifetime > 0 ? started_ + opt_.lifetime : inf;
  double at = std::min(idle_at, life_at);
  if (at == inf) {
    timer_.stop();
    return;
  }
  timer_.start(at - loop_.now());
}

void Stream::on_timer() {
  if (closed_) return;
  double now = loop_.now();
  if (opt_.lifetime > 0 && now >= started_ + opt_.lifetime) return fail(StreamError::lifetime, 0);
  if (opt_.idle_timeout > 0 && now >= last_activity_ + opt_.idle_timeout)
    return fail(StreamError::idle_timeout, 0);
  arm_timer();
}

void Stream::update_read_watcher() {
  bool want = !closed_ && !eof_ && !paused_ && in_.room() > 0;
  if (want && !reader_.active()) reader_.start(rfd_.get(), EV_READ);
  if (!want && reader_.active()) reader_.stop();
}

void Stream::on_readable() {
  if (closed_ || paused_ || eof_) return;
  static char chunk[64u << 10];
  size_t want = std::min({opt_.read_chunk, sizeof chunk, in_.room()});
  if (want == 0) return update_read_watcher();
  ssize_t n = read_some(rfd_.get(), chunk, want);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    return fail(StreamError::io, errno);
  }
  if (n == 0) {
    eof_ = true;
    update_read_watcher();
    // Lines already buffered are delivered before the end is reported.
    dispatch();
    if (!closed_ && on_eof) on_eof();
    return;
  }
  touch();
  in_.append(std::string_view(chunk, static_cast<size_t>(n)));
  dispatch();
}

void Stream::dispatch() {
  if (dispatching_) return;  // a callback resumed us: the outer loop continues
  dispatching_ = true;
  std::string line;
  while (!closed_ && !paused_) {
    if (opt_.lines) {
      LineView lv = in_.find_line();
      if (lv.status == LineStatus::none) break;
      if (lv.status == LineStatus::too_long) {
        dispatching_ = false;
        return fail(StreamError::line_too_long, 0);
      }
      // Copy before the callback, which may write, switch modes or close.
      line.assign(lv.text);
      bool crlf = lv.crlf;
      in_.consume(lv.consumed);
      if (on_line) on_line(line, crlf);
    } else {
      if (in_.empty() || !on_data) break;
      size_t before = in_.size();
      on_data(in_);
      if (in_.size() == before) break;  // the consumer waits for more
    }
  }
  dispatching_ = false;
  update_read_watcher();
}

void Stream::pause_reading() {
  paused_ = true;
  update_read_watcher();
}

void Stream::resume_reading() {
  if (!paused_) return;
  paused_ = false;
  dispatch();
}

bool Stream::write(std::string_view data) {
  if (closed_ || close_when_flushed_) return false;
  if (data.empty()) return true;
  if (out_.empty()) {
    // Write first: most replies fit the socket buffer and need no watcher.
    ssize_t n;
    do n = ::write(wfd_raw_, data.data(), data.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        fail(StreamError::io, errno);
        return false;
      }
      n = 0;
    }
    if (n > 0) touch();
    data.remove_prefix(static_cast<size_t>(n));
    if (data.empty()) return true;
  }
  if (!out_.append(data)) {
    fail(StreamError::output_full, 0);
    return false;
  }
  if (!writer_.active()) writer_.start(wfd_raw_, EV_WRITE);
  return true;
}

void Stream::on_writable() {
  if (!closed_) flush();
}

void Stream::flush() {
  while (!out_.empty()) {
    std::string_view v = out_.view();
    ssize_t n = ::write(wfd_raw_, v.data(), v.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      return fail(StreamError::io, errno);
    }
    touch();
    out_.consume(static_cast<size_t>(n));
  }
  writer_.stop();
  if (close_when_flushed_) return close();
  if (on_drain) on_drain();
}

void Stream::close_after_flush() {
  if (closed_) return;
  if (out_.empty()) return close();
  close_when_flushed_ = true;
  paused_ = true;
  update_read_watcher();
}

void Stream::close() {
  if (closed_) return;
  closed_ = true;
  reader_.stop();
  writer_.stop();
  timer_.stop();
  rfd_.reset();
  wfd_.reset();
}

void Stream::fail(StreamError e, int err_no) {
  if (closed_) return;
  close();
  if (on_error) on_error(e, err_no);
}

}  // namespace reactor
