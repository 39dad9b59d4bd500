#include "smtp/serial_io.h"

#include <cerrno>
#include <poll.h>
#include <unistd.h>

#include "reactor/fd.h"

namespace smtp {

bool wait_fd(int fd, short events, int seconds) {
  pollfd p{fd, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, seconds * 1000);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

reactor::Status FdPeer::flush() {
  size_t done = 0;
  while (done < out_.size()) {
    if (!wait_fd(wfd_, POLLOUT, wto_)) return reactor::temp_error("network write error: timed out");
    ssize_t w = ::write(wfd_, out_.data() + done, out_.size() - done);
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return reactor::temp_error("network write error: " + reactor::errno_text(errno));
    }
    done += static_cast<size_t>(w);
  }
  out_.clear();
  return {};
}

reactor::Result<Reply> FdPeer::reply() {
  for (;;) {
    if (auto r = parser_.next()) return std::move(*r);
    if (!wait_fd(rfd_, POLLIN, rto_)) return reactor::temp_error("network read error: timed out");
    char buf[4096];
    ssize_t n = ::read(rfd_, buf, sizeof buf);
    if (n == 0) return reactor::temp_error("network read error: end of file");
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return reactor::temp_error("network read error: " + reactor::errno_text(errno));
    }
    parser_.feed(std::string_view(buf, static_cast<size_t>(n)));
  }
}

reactor::Result<std::optional<std::string>> read_name(int fd, std::string& buf) {
  for (;;) {
    size_t z = buf.find('\0');
    if (z != std::string::npos) {
      std::string name = buf.substr(0, z);
      buf.erase(0, z + 1);
      return std::optional<std::string>(std::move(name));
    }
    char tmp[1024];
    ssize_t n = ::read(fd, tmp, sizeof tmp);
    if (n == 0) return std::optional<std::string>();
    if (n < 0) {
      if (errno == EINTR) continue;
      return reactor::temp_error("unable to read input: " + reactor::errno_text(errno));
    }
    buf.append(tmp, static_cast<size_t>(n));
  }
}

}  // namespace smtp
