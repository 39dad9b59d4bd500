// Blocking line I/O with timeouts (see line_io.h).
#include "pop3/line_io.h"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <unistd.h>

namespace pop3 {

namespace {
bool wait_fd(int fd, short events, int timeout) {
  struct pollfd p{fd, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, timeout * 1000);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}
}  // namespace

void wipe(std::string& s) {
  if (!s.empty()) ::explicit_bzero(s.data(), s.size());
}

bool LineReader::fill() {
  if (pos_ > 0) { buf_.erase(0, pos_); pos_ = 0; }
  int wait = timeout_;
  if (deadline_) {
    time_t now = std::time(nullptr);
    if (now >= deadline_) { expired_ = true; return false; }
    if (deadline_ - now < wait) wait = int(deadline_ - now);
  }
  if (!wait_fd(fd_, POLLIN, wait)) {
    if (deadline_ && std::time(nullptr) >= deadline_) expired_ = true;
    return false;
  }
  char tmp[4096];
  size_t want = exact_ ? 1 : sizeof tmp;
  ssize_t r;
  do r = ::read(fd_, tmp, want); while (r < 0 && errno == EINTR);
  if (r <= 0) return false;
  buf_.append(tmp, size_t(r));
  ::explicit_bzero(tmp, size_t(r));
  return true;
}

bool LineReader::line_buffered() const { return buf_.find('\n', pos_) != std::string::npos; }

void LineReader::wipe() { pop3::wipe(buf_); buf_.clear(); pos_ = 0; }

std::optional<std::string> LineReader::next() {
  std::string line;
  for (;;) {
    size_t nl = buf_.find('\n', pos_);
    size_t end = nl == std::string::npos ? buf_.size() : nl;
    if (line.size() + (end - pos_) > max_) {
      // [WEAKNESS] qmail reads on and drops the excess until a LF comes.
      pop3::wipe(line);
      overlong_ = true;
      return std::nullopt;
    }
    line.append(buf_, pos_, end - pos_);
    if (nl != std::string::npos) { pos_ = nl + 1; return line; }
    pos_ = buf_.size();
    if (!fill()) { pop3::wipe(line); return std::nullopt; }
  }
}

bool write_timeout(int fd, std::string_view data, int timeout) {
  while (!data.empty()) {
    if (!wait_fd(fd, POLLOUT, timeout)) return false;
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    data.remove_prefix(size_t(w));
  }
  return true;
}

}  // namespace pop3
