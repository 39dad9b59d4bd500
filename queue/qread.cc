// qmail-qread and qmail-qstat (see qread.h).
#include "queue/qread.h"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "queue/date822.h"
#include "queue/envelope.h"
#include "reactor/fd.h"

namespace queue {

std::string qread_printable(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) c = '_';
  return out;
}

std::string qread_stats_line(std::time_t birth, MsgId id, unsigned long size,
                             std::string_view sender, bool bouncing) {
  // qmail cuts the zone off its Received-line date and writes "GMT" instead;
  // the space after '>' is always there, so a bounce reads ">  bouncing".
  std::string date = date822_utc(birth);
  date.resize(date.size() - 6);  // " -0000"
  std::string line = date + " GMT  #" + std::to_string(id) + "  " + std::to_string(size) + "  <" +
                     std::string(sender) + "> ";
  if (bouncing) line += " bouncing";
  return qread_printable(line) + "\n";
}

std::string qread_recipients(std::string_view channel_file, bool remote) {
  std::string out;
  for (const EnvRecord& r : split_records(channel_file)) {
    if (r.type != 'T' && r.type != 'D') continue;  // other records are not recipients
    if (r.type == 'D') out += "  done";
    out += remote ? "\tremote\t" : "\tlocal\t";
    out += qread_printable(r.value);
    out += '\n';
  }
  return out;
}

namespace {

// Caps what one queue file may cost us in memory.
constexpr size_t kMaxQueueFile = 16u << 20;

// Buffered output to a descriptor; write errors are ignored like qmail's substdio.
class Out {
 public:
  explicit Out(int fd) : fd_(fd) {}
  ~Out() { flush(); }
  void put(std::string_view s) {
    buf_.append(s);
    if (buf_.size() >= 65536) flush();
  }
  void flush() {
    if (!buf_.empty()) (void)reactor::write_all(fd_, buf_);
    buf_.clear();
  }

 private:
  int fd_;
  std::string buf_;
};

// Reads a whole queue file relative to the queue directory; errno set on failure.
bool read_at(int q, const std::string& path, std::string& data, struct stat* st = nullptr) {
  int fd = ::openat(q, path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  reactor::UniqueFd guard(fd);
  if (st && ::fstat(fd, st) != 0) return false;
  return reactor::read_all(fd, data, kMaxQueueFile);
}

// Numeric names in one split subdirectory, sorted (readdir order is arbitrary).
bool list_ids(int q, const std::string& dir, std::vector<MsgId>& ids) {
  DIR* d = reactor::open_dir_at(q, dir.c_str());
  if (!d) return false;
  while (struct dirent* e = ::readdir(d)) {
    MsgId id;
    if (parse_msgid(e->d_name, id)) ids.push_back(id);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return true;
}

void warn(Out& out, MsgId id, int err) {
  out.put("warning: trouble with #" + std::to_string(id) + ": " + reactor::errno_text(err) + "\n");
}

// One message's block of the listing.
void list_one(int q, MsgId id, int split, Out& out) {
  struct stat st;
  if (::fstatat(q, msg_path(Dir::mess, id, split).c_str(), &st, 0) != 0) return warn(out, id, errno);
  unsigned long size = static_cast<unsigned long>(st.st_size);
  bool bouncing = ::fstatat(q, msg_path(Dir::bounce, id, split).c_str(), &st, 0) == 0;
  std::string info;
  if (!read_at(q, msg_path(Dir::info, id, split), info, &st)) return warn(out, id, errno);
  // The sender is the F record's value; qmail does not check the type byte.
  std::string_view sender = info;
  if (!sender.empty()) sender.remove_prefix(1);
  sender = sender.substr(0, sender.find('\0'));
  out.put(qread_stats_line(st.st_mtime, id, size, sender, bouncing));
  for (bool remote : {false, true}) {
    std::string data;
    if (!read_at(q, msg_path(remote ? Dir::remote : Dir::local, id, split), data)) {
      if (errno != ENOENT) warn(out, id, errno);
      continue;
    }
    out.put(qread_recipients(data, remote));
  }
}

// Entries below a directory, recursively (what `find DIR -print`, minus DIR, counts).
bool count_tree(int parent, const char* name, unsigned long& n, int depth) {
  DIR* d = reactor::open_dir_at(parent, name);
  if (!d) return false;
  int dfd = ::dirfd(d);
  while (struct dirent* e = ::readdir(d)) {
    std::string child = e->d_name;
    if (child == "." || child == "..") continue;
    ++n;
    struct stat st;
    if (depth > 0 && ::fstatat(dfd, child.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(st.st_mode))
      count_tree(dfd, child.c_str(), n, depth - 1);
  }
  ::closedir(d);
  return true;
}

}  // namespace

int qread_list(int queue_dirfd, int out_fd, int split) {
  Out out(out_fd);
  for (int s = 0; s < split; ++s) {
    std::string dir = "info/" + std::to_string(s);
    std::vector<MsgId> ids;
    if (!list_ids(queue_dirfd, dir, ids)) {
      out.put("fatal: unable to opendir " + dir + ": " + reactor::errno_text(errno) + "\n");
      return 111;
    }
    for (MsgId id : ids) list_one(queue_dirfd, id, split, out);
  }
  return 0;
}

reactor::Result<QueueCounts> qstat_counts(int queue_dirfd) {
  QueueCounts c;
  // mess/*: the split subdirectories themselves do not count, their contents do
  // (qmail's script: find queue/mess/* minus the number of subdirectories).
  DIR* d = reactor::open_dir_at(queue_dirfd, "mess");
  if (!d) return reactor::temp_error("unable to open queue/mess: " + reactor::errno_text(errno));
  int dfd = ::dirfd(d);
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;  // the shell glob skips hidden names
    count_tree(dfd, e->d_name, c.messages, 4);
  }
  ::closedir(d);
  if (!count_tree(queue_dirfd, "todo", c.todo, 4))
    return reactor::temp_error("unable to open queue/todo: " + reactor::errno_text(errno));
  return c;
}

std::string qstat_text(const QueueCounts& c) {
  return "messages in queue: " + std::to_string(c.messages) +
         "\nmessages in queue but not yet preprocessed: " + std::to_string(c.todo) + "\n";
}

}  // namespace queue
