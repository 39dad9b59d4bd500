// File-descriptor helpers (see fd.h).
#include "reactor/fd.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace reactor {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

ssize_t read_some(int fd, char* buf, size_t n) {
  for (;;) {
    ssize_t r = ::read(fd, buf, n);
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

bool read_all(int fd, std::string& out, size_t limit) {
  char buf[65536];
  for (;;) {
    ssize_t r = read_some(fd, buf, sizeof buf);
    if (r < 0) return false;
    if (r == 0) return true;
    if (out.size() + static_cast<size_t>(r) > limit) {
      errno = EFBIG;
      return false;
    }
    out.append(buf, static_cast<size_t>(r));
  }
}

bool set_nonblock(int fd, bool on) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0) return false;
  fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
  return ::fcntl(fd, F_SETFL, fl) == 0;
}

bool set_cloexec(int fd, bool on) {
  int fl = ::fcntl(fd, F_GETFD);
  if (fl < 0) return false;
  fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
  return ::fcntl(fd, F_SETFD, fl) == 0;
}

std::string errno_text(int err) { return std::strerror(err); }

Result<std::string> read_file(const std::string& path, size_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return perm_error("ENOENT");
    return temp_error("unable to open " + path + ": " + errno_text(errno));
  }
  UniqueFd guard(fd);
  std::string out;
  if (!read_all(fd, out, limit))
    return temp_error("unable to read " + path + ": " + errno_text(errno));
  return out;
}

DIR* open_dir_at(int parent, const char* name) {
  int dfd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return nullptr;
  DIR* d = ::fdopendir(dfd);
  if (!d) {
    int e = errno;
    ::close(dfd);
    errno = e;
  }
  return d;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return temp_error("unable to create " + tmp + ": " + errno_text(errno));
  UniqueFd guard(fd);
  if (!write_all(fd, data) || ::fsync(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return temp_error("unable to write " + tmp + ": " + errno_text(e));
  }
  guard.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return temp_error("unable to move " + tmp + " to " + path + ": " + errno_text(e));
  }
  return {};
}

}  // namespace reactor
