// qmail-queue's injection sequence and envelope codec (see queue_writer.h).
#include "queue/queue_writer.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/date822.h"
#include "reactor/control.h"
#include "reactor/fd.h"

namespace queue {

// ---------------------------------------------------------------- envelope

EnvelopeParser::Status EnvelopeParser::feed(std::string_view in, std::string& out, size_t* used) {
  size_t i = 0;
  while (i < in.size() && status_ == Status::more) {
    char c = in[i++];
    switch (where_) {
      case Where::first:
        // The sender record must come first; anything else is a format error.
        if (c != 'F') {
          status_ = Status::bad_format;
          break;
        }
        out += c;
        where_ = Where::in_address;
        in_sender_ = true;
        addr_len_ = 0;
        break;
      case Where::record_start:
        // A NUL where a record would start ends the list; it is not copied.
        if (c == '\0') {
          status_ = Status::done;
          break;
        }
        if (c != 'T') {
          status_ = Status::bad_format;
          break;
        }
        out += c;
        where_ = Where::in_address;
        in_sender_ = false;
        addr_len_ = 0;
        break;
      case Where::in_address:
        out += c;
        if (c == '\0') {
          where_ = Where::record_start;
          // QUEUE_EXTRA goes right after the F record, before the first T.
          if (in_sender_) out += extra_;
          break;
        }
        // [WEAKNESS] qmail takes any byte; a CR or LF in an address would
        // reach an SMTP command line or a header later: a format error.
        if (c == '\r' || c == '\n') {
          status_ = Status::bad_format;
          break;
        }
        // qmail's ADDR: the 1003rd byte without a terminating NUL is too many.
        if (++addr_len_ >= kQqAddr) status_ = Status::too_long;
        break;
    }
  }
  if (used) *used = i;
  return status_;
}

int EnvelopeParser::exit_code_at_eof() const {
  switch (status_) {
    case Status::done: return qq_exit::kOk;
    case Status::too_long: return qq_exit::kAddrTooLong;
    case Status::bad_format: return qq_exit::kFormat;
    case Status::more: break;
  }
  return qq_exit::kRead;  // end of file before the final NUL: nothing is queued
}

// ---------------------------------------------------------------- texts

std::string received_how(uid_t uid, std::optional<uid_t> alias, std::optional<uid_t> qmaild,
                         std::optional<uid_t> qmails) {
  if (alias && uid == *alias) return "by alias";
  if (qmaild && uid == *qmaild) return "from network";
  if (qmails && uid == *qmails) return "for bounce";
  return "by uid " + std::to_string(uid);
}

std::string received_line(unsigned long pid, const std::string& how, std::time_t now) {
  return "Received: (qmail " + std::to_string(pid) + " invoked " + how + "); " + date822_utc(now) +
         "\n";
}

std::string queue_extra_records(const std::vector<std::string>& addresses) {
  std::string out;
  for (const auto& a : addresses) {
    out += 'T';
    out += a;
    out += '\0';
  }
  return out;
}

reactor::Result<std::string> read_queue_extra(const std::string& path) {
  auto list = reactor::control_list(path);
  if (!list) return list.error();
  if (!*list) return std::string();
  for (const auto& a : **list) {
    // Same limit as an address read from fd 1; a NUL would split the record.
    if (a.size() >= kQqAddr) return reactor::temp_error("address too long in " + path);
    if (a.find('\0') != std::string::npos) return reactor::temp_error("NUL byte in " + path);
  }
  return queue_extra_records(**list);
}

// ---------------------------------------------------------------- injection

void pull_trigger(int queue_dirfd) {
  // qmail-send may not be running (no reader): the open then fails with ENXIO,
  // and a full pipe makes the write fail. Both are fine: the todo scan finds it.
  int fd = ::openat(queue_dirfd, "lock/trigger", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t w = ::write(fd, "", 1);
  (void)w;
  ::close(fd);
}

namespace {

constexpr size_t kChunk = 65536;

// One injection in progress; remembers what it made so a failure can undo it.
class Injection {
 public:
  Injection(int q, const QueueJob& job) : q_(q), job_(job) {}
  ~Injection() = default;

  QueueResult run(int msg_fd, int env_fd) {
    int code = make_mess();
    if (code == 0) code = copy_message(msg_fd);
    if (code == 0) code = write_intd(env_fd);
    if (code == 0 && ::linkat(q_, intd_.c_str(), q_, todo_.c_str(), 0) != 0) code = qq_exit::kTodo;
    if (code != 0) {
      cleanup();
      return {code, 0};
    }
    pull_trigger(q_);
    return {qq_exit::kOk, id_};
  }

 private:
  // Steps 3 and 4: a fresh inode through pid/, then its name in mess/.
  int make_mess() {
    std::string pidfn;
    int fd = -1;
    for (int seq = 1; seq < 10 && fd < 0; ++seq) {
      pidfn = "pid/" + std::to_string(job_.pid) + "." + std::to_string(job_.now) + "." +
              std::to_string(seq);
      fd = ::openat(q_, pidfn.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    }
    if (fd < 0) return qq_exit::kPid;
    mess_fd_.reset(fd);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      ::unlinkat(q_, pidfn.c_str(), 0);
      return qq_exit::kPid;
    }
    id_ = static_cast<MsgId>(st.st_ino);
    mess_ = msg_path(Dir::mess, id_, job_.split);
    intd_ = msg_path(Dir::intd, id_, job_.split);
    todo_ = msg_path(Dir::todo, id_, job_.split);
    if (::linkat(q_, pidfn.c_str(), q_, mess_.c_str(), 0) != 0) {
      // qmail leaves the pid file for qmail-clean; removing it now is tidier.
      ::unlinkat(q_, pidfn.c_str(), 0);
      return qq_exit::kMess;
    }
    made_mess_ = true;
    if (::unlinkat(q_, pidfn.c_str(), 0) != 0) return qq_exit::kPid;
    return 0;
  }

  // Step 5: the Received line, then fd 0 verbatim, then fsync.
  int copy_message(int msg_fd) {
    std::string buf = received_line(job_.pid, job_.how, job_.now);
    size_t head = buf.size();
    buf.resize(head + kChunk);
    size_t have = head;
    for (;;) {
      ssize_t r = reactor::read_some(msg_fd, buf.data() + have, buf.size() - have);
      if (r < 0) return qq_exit::kRead;
      have += static_cast<size_t>(r);
      if (r == 0 || have >= kChunk) {
        if (!reactor::write_all(mess_fd_.get(), std::string_view(buf.data(), have)))
          return qq_exit::kWrite;
        have = 0;
      }
      if (r == 0) break;
    }
    if (::fsync(mess_fd_.get()) != 0) return qq_exit::kWrite;
    return 0;
  }

  // Step 6: intd/N = u<uid>\0 p<pid>\0 + envelope (with QUEUE_EXTRA), then fsync.
  int write_intd(int env_fd) {
    int fd = ::openat(q_, intd_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return qq_exit::kIntd;
    intd_fd_.reset(fd);
    made_intd_ = true;
    std::string out = "u" + std::to_string(job_.uid) + '\0' + "p" + std::to_string(job_.pid) + '\0';
    EnvelopeParser parser(job_.extra);
    char in[4096];
    while (parser.status() == EnvelopeParser::Status::more) {
      ssize_t r = reactor::read_some(env_fd, in, sizeof in);
      if (r < 0) return qq_exit::kRead;
      if (r == 0) break;
      parser.feed(std::string_view(in, static_cast<size_t>(r)), out);
      // Envelopes can be long (many recipients): write as we go, bounded memory.
      if (out.size() >= kChunk) {
        if (!reactor::write_all(fd, out)) return qq_exit::kWrite;
        out.clear();
      }
    }
    if (int code = parser.exit_code_at_eof(); code != 0) return code;
    if (!reactor::write_all(fd, out)) return qq_exit::kWrite;
    if (::fsync(fd) != 0) return qq_exit::kWrite;
    return 0;
  }

  // Truncate first so the space comes back even if another name still points
  // at the inode, then unlink; intd before mess, as qmail does.
  void cleanup() {
    if (made_intd_) {
      if (::ftruncate(intd_fd_.get(), 0) != 0) {}
      ::unlinkat(q_, intd_.c_str(), 0);
    }
    if (made_mess_) {
      if (::ftruncate(mess_fd_.get(), 0) != 0) {}
      ::unlinkat(q_, mess_.c_str(), 0);
    }
  }

  int q_;
  const QueueJob& job_;
  MsgId id_ = 0;
  std::string mess_, intd_, todo_;
  reactor::UniqueFd mess_fd_, intd_fd_;
  bool made_mess_ = false, made_intd_ = false;
};

}  // namespace

QueueResult inject_message(int queue_dirfd, int msg_fd, int env_fd, const QueueJob& job) {
  Injection inj(queue_dirfd, job);
  return inj.run(msg_fd, env_fd);
}

}  // namespace queue
