// qmail-clean's request handling (see clean.h).
#include "queue/clean.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/layout.h"
#include "reactor/fd.h"

namespace queue {

namespace {
// Unlinks a queue file; a file that is already gone counts as removed.
bool remove_file(int q, const std::string& path) {
  return ::unlinkat(q, path.c_str(), 0) == 0 || errno == ENOENT;
}

// Idle qmail-clean still sweeps pid/ this often (qmail only sweeps per request).
constexpr int kIdleSweepMs = 3600 * 1000;
}  // namespace

Cleaner::Cleaner(int queue_dirfd, int split) : q_(queue_dirfd), split_(split) {
  struct stat st;
  for (int s = 0; s < split_ && !split_todo_; ++s)
    for (const char* d : {"todo/", "intd/"})
      if (::fstatat(q_, (d + std::to_string(s)).c_str(), &st, 0) == 0 && S_ISDIR(st.st_mode))
        split_todo_ = true;
}

char Cleaner::handle(std::string_view request) {
  // Shape checks as qmail-clean: "todo/" or "foop/" followed by a decimal number.
  if (request.size() < 6 || request.size() + 1 > kCleanMaxRequest) return 'x';
  std::string_view kind = request.substr(0, 5);
  MsgId id = 0;
  if (!parse_msgid(std::string(request.substr(5)), id)) return 'x';
  if (kind == "foop/") {
    // Debris of a dead qmail-queue (queue.md 4.8), or a completed message.
    if (!remove_file(q_, msg_path(Dir::intd, id, split_))) return '!';
    if (!remove_file(q_, msg_path(Dir::mess, id, split_))) return '!';
    return '+';
  }
  if (kind == "todo/") {
    // qmail-send has copied the envelope into info/local/remote. A queue
    // adopted from a big-todo qmail keeps intd/ and todo/ split: remove there too.
    std::string sub = "/" + std::to_string(id % split_) + "/" + std::to_string(id);
    for (Dir d : {Dir::intd, Dir::todo}) {
      if (!remove_file(q_, msg_path(d, id, split_))) return '!';
      if (split_todo_ && !remove_file(q_, std::string(dir_name(d)) + sub)) return '!';
    }
    return '+';
  }
  return 'x';
}

int Cleaner::sweep_pid(std::time_t now) {
  DIR* dir = reactor::open_dir_at(q_, "pid");
  if (!dir) return 0;
  int dfd = ::dirfd(dir);
  int removed = 0;
  while (struct dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    // Younger than OSSIFIED: possibly a qmail-queue still at work.
    if (now < st.st_atime + kOssified) continue;
    if (::unlinkat(dfd, name.c_str(), 0) == 0) ++removed;
  }
  ::closedir(dir);
  return removed;
}

bool CleanRequestReader::next(std::string& out) {
  size_t z = buf_.find('\0');
  if (z == std::string::npos) {
    // Cap before parsing: never buffer more than one maximal request.
    if (buf_.size() >= kCleanMaxRequest) skipping_ = true;
    if (skipping_) buf_.clear();
    return false;
  }
  if (skipping_ || z + 1 > kCleanMaxRequest) {
    out.clear();  // answered 'x'
  } else {
    out.assign(buf_, 0, z);
  }
  skipping_ = false;
  buf_.erase(0, z + 1);
  return true;
}

int serve_clean(int in, int out, Cleaner& cleaner) {
  CleanRequestReader reader;
  // Sweep at start, then after every kCleanPidEvery requests, as qmail does.
  cleaner.sweep_pid(std::time(nullptr));
  int until_sweep = kCleanPidEvery;
  char buf[1024];
  std::string req;
  for (;;) {
    while (reader.next(req)) {
      if (--until_sweep <= 0) {
        cleaner.sweep_pid(std::time(nullptr));
        until_sweep = kCleanPidEvery;
      }
      char answer = cleaner.handle(req);
      // One byte, unbuffered: qmail-send waits for it before the next request.
      if (!reactor::write_all(out, std::string_view(&answer, 1))) return 100;
    }
    struct pollfd p = {in, POLLIN, 0};
    int n = ::poll(&p, 1, kIdleSweepMs);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      cleaner.sweep_pid(std::time(nullptr));
      continue;
    }
    ssize_t r = reactor::read_some(in, buf, sizeof buf);
    if (r < 0) return 111;
    if (r == 0) return 0;
    reader.feed(std::string_view(buf, static_cast<size_t>(r)));
  }
}

}  // namespace queue
