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

// Streams message bytes into mbox form: complete lines are quoted as they
// arrive; a partial line waits for its end (qmail's getln does the same).
class Quoter {
 public:
  void feed(std::string_view chunk, std::string& out) {
    size_t start = 0;
    for (;;) {
      size_t nl = chunk.find('\n', start);
      if (nl == std::string_view::npos) break;
      line(chunk.substr(start, nl + 1 - start), out);
      start = nl + 1;
    }
    partial_.append(chunk.substr(start));
  }
  // The last line gets its missing newline; then the separating blank line.
  void finish(std::string& out) {
    if (!partial_.empty()) {
      partial_ += '\n';
      std::string l = std::move(partial_);
      partial_.clear();
      emit(l, out);
    }
    out += '\n';
  }

 private:
  void line(std::string_view piece, std::string& out) {
    if (partial_.empty()) {
      emit(piece, out);
    } else {
      partial_.append(piece);
      std::string l = std::move(partial_);
      partial_.clear();
      emit(l, out);
    }
  }
  static void emit(std::string_view l, std::string& out) {
    if (mbox_needs_quote(l)) out += '>';
    out.append(l);
  }
  std::string partial_;
};

// Exclusive flock, polled so the wait is bounded. 1 locked, 0 timed out,
// -1 the system cannot lock (qmail then goes on unlocked).
int lock_with_deadline(int fd, int seconds) {
  struct timespec start;
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return 1;
    if (errno != EWOULDBLOCK && errno != EINTR) return -1;
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

std::string mbox_quote(std::string_view message) {
  std::string out;
  Quoter q;
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
  Quoter q;
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
