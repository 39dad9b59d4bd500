// qmail-clean's request handling (see clean.h).
#include "queue/clean.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <deque>
#include <functional>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/layout.h"
#include "reactor/fd.h"
#include "reactor/loop.h"
#include "reactor/worker.h"

namespace queue {

namespace {
// Unlinks a queue file; a file that is already gone counts as removed.
bool remove_file(int q, const std::string& path) {
  return ::unlinkat(q, path.c_str(), 0) == 0 || errno == ENOENT;
}

// Idle qmail-clean still sweeps pid/ this often (qmail only sweeps per request).
constexpr double kIdleSweepSeconds = 3600;
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

namespace {
// The server: requests are handed to a few threads (a removal may wait for
// the disk, see ThreadRemover), those of one message to the same thread, and
// answered strictly in the order they came.
class CleanServer {
 public:
  CleanServer(int in, int out, Cleaner& cleaner)
      : in_(in), out_(out), cleaner_(cleaner), pool_(loop_, kCleanThreads),
        in_io_(loop_, [this](int) { readable(); }), idle_(loop_, [this] { idle(); }) {
    pool_.after = [this] { answer(); };
  }

  int run() {
    // Sweep at start, then after every kCleanPidEvery requests, as qmail does.
    cleaner_.sweep_pid(std::time(nullptr));
    in_io_.start(in_, EV_READ);
    idle_.start(kIdleSweepSeconds, kIdleSweepSeconds);
    loop_.run();
    return rc_;
  }

 private:
  void readable() {
    char buf[1024];
    ssize_t r = reactor::read_some(in_, buf, sizeof buf);
    if (r < 0) return stop(111);
    if (r == 0) {
      eof_ = true;
      in_io_.stop();
      return answer();
    }
    idle_.start(kIdleSweepSeconds, kIdleSweepSeconds);
    reader_.feed(std::string_view(buf, static_cast<size_t>(r)));
    std::string req;
    while (reader_.next(req)) {
      if (--until_sweep_ <= 0) {
        cleaner_.sweep_pid(std::time(nullptr));
        until_sweep_ = kCleanPidEvery;
      }
      unsigned long long seq = base_ + slots_.size();
      slots_.push_back(0);
      // The number names the message: its requests stay in order on one thread.
      unsigned key = static_cast<unsigned>(std::hash<std::string>{}(req.size() > 5 ? req.substr(5) : req));
      pool_.run(key, [this, req] { return static_cast<int>(cleaner_.handle(req)); },
                [this, seq](int a) { slots_[seq - base_] = static_cast<char>(a); });
    }
    // Bounded memory: no more reading while many answers are owed.
    if (slots_.size() >= kCleanInFlight) in_io_.stop();
    answer();
  }
  // Writes the answers that are known, in order (one write), and resumes
  // reading once the backlog has shrunk.
  void answer() {
    std::string o;
    while (!slots_.empty() && slots_.front()) {
      o += slots_.front();
      slots_.pop_front();
      ++base_;
    }
    if (!o.empty() && !reactor::write_all(out_, o)) return stop(100);
    if (eof_ && slots_.empty()) return stop(0);
    if (!eof_ && !in_io_.active() && slots_.size() < kCleanInFlight / 2) in_io_.start(in_, EV_READ);
  }
  void idle() { cleaner_.sweep_pid(std::time(nullptr)); }
  void stop(int rc) {
    rc_ = rc;
    loop_.break_loop();
  }

  static constexpr unsigned kCleanThreads = 4;
  static constexpr size_t kCleanInFlight = 1024;
  int in_, out_;
  Cleaner& cleaner_;
  reactor::Loop loop_;
  reactor::WorkerPool pool_;
  reactor::Io in_io_;
  reactor::Timer idle_;
  CleanRequestReader reader_;
  std::deque<char> slots_;        ///< answers owed, oldest first; 0 while unknown
  unsigned long long base_ = 0;   ///< sequence number of slots_.front()
  int until_sweep_ = kCleanPidEvery;
  bool eof_ = false;
  int rc_ = 0;
};
}  // namespace

int serve_clean(int in, int out, Cleaner& cleaner) {
  CleanServer s(in, out, cleaner);
  return s.run();
}

}  // namespace queue
