// mbox delivery (see mbox.h).
#include "spawn/mbox.h"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "reactor/fd.h"

namespace spawn {

namespace {

// Exclusive flock and fcntl lock together (MUAs use one or the other),
// polled so the wait is bounded; neither is held while waiting for the
// other. 1 locked, 0 timed out, -1 the system cannot lock (qmail then goes
// on unlocked). A file system without fcntl locks keeps the flock.
int lock_with_deadline(int fd, int seconds) {
  struct timespec start;
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      struct flock fl {};
      fl.l_type = F_WRLCK;
      fl.l_whence = SEEK_SET;  // the whole file, as lockf(F_TLOCK) from offset 0
      if (::fcntl(fd, F_SETLK, &fl) == 0) return 1;
      if (errno != EAGAIN && errno != EACCES && errno != EINTR) return 1;
      ::flock(fd, LOCK_UN);
    } else if (errno != EWOULDBLOCK && errno != EINTR) {
      return -1;
    }
    struct timespec now;
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= seconds) return 0;
    ::poll(nullptr, 0, 50);
  }
}

}  // namespace

bool mbox_needs_quote(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] == '>') ++i;
  return line.substr(i).starts_with("From ");
}

void MboxQuoter::feed(std::string_view chunk, std::string& out) {
  static constexpr std::string_view kFrom = "From ";
  size_t i = 0;
  while (i < chunk.size()) {
    char c = chunk[i];
    if (state_ == State::kBody) {
      // Copy to the end of the line in one piece.
      size_t nl = chunk.find('\n', i);
      size_t stop = nl == std::string_view::npos ? chunk.size() : nl + 1;
      out.append(chunk.substr(i, stop - i));
      if (nl != std::string_view::npos) {
        state_ = State::kStart;
        open_ = false;
      }
      i = stop;
      continue;
    }
    ++i;
    if (state_ == State::kStart && c == '>') {
      // One more '>' anywhere in the run reads the same, so the run passes
      // through as it comes and only what follows it waits.
      out += c;
      open_ = true;
      continue;
    }
    prefix_ += c;
    if (prefix_ == kFrom) {
      out += '>';
      out += prefix_;
    } else if (kFrom.starts_with(prefix_)) {
      state_ = State::kPrefix;
      continue;
    } else {
      out += prefix_;
    }
    state_ = c == '\n' ? State::kStart : State::kBody;
    open_ = c != '\n';
    prefix_.clear();
  }
}

void MboxQuoter::finish(std::string& out) {
  out += prefix_;
  if (open_ || !prefix_.empty() || state_ == State::kBody) out += '\n';
  prefix_.clear();
  state_ = State::kStart;
  open_ = false;
  out += '\n';
}

std::string mbox_quote(std::string_view message) {
  std::string out;
  MboxQuoter q;
  q.feed(message, out);
  q.finish(out);
  return out;
}

reactor::Status mbox_deliver(const std::string& path, std::string_view head, int msgfd, int lock_seconds) {
  reactor::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid())
    return reactor::temp_error("Unable to open " + path + ": " + reactor::errno_text(errno) + ". (#4.2.1)");
  int locked = lock_with_deadline(fd.get(), lock_seconds);
  if (locked == 0) return reactor::temp_error("File has been locked for 30 seconds straight. (#4.3.0)");
  off_t pos = ::lseek(fd.get(), 0, SEEK_END);
  // On any error the file goes back to its old length, but only when we held
  // the lock: unlocked, someone else may have appended meanwhile.
  auto undo = [&](std::string text) -> reactor::Status {
    if (locked == 1 && pos >= 0) (void)!::ftruncate(fd.get(), pos);
    return reactor::temp_error(std::move(text));
  };
  auto write_error = [&]() {
    return undo("Unable to write " + path + ": " + reactor::errno_text(errno) + ". (#4.3.0)");
  };
  std::string out(head);
  MboxQuoter q;
  char buf[65536];
  for (;;) {
    ssize_t r = reactor::read_some(msgfd, buf, sizeof buf);
    if (r < 0) return undo("Unable to read message: " + reactor::errno_text(errno) + ". (#4.3.0)");
    if (r == 0) break;
    q.feed(std::string_view(buf, static_cast<size_t>(r)), out);
    if (out.size() >= sizeof buf) {
      if (!reactor::write_all(fd.get(), out)) return write_error();
      out.clear();
    }
  }
  q.finish(out);
  if (!reactor::write_all(fd.get(), out)) return write_error();
  if (::fsync(fd.get()) != 0) return write_error();
  return {};
}

}  // namespace spawn
