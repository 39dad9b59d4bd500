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
}  // namespace

QueueFiles::QueueFiles(int queue_dirfd, QueueJob job) : q_(queue_dirfd), job_(std::move(job)) {}

QueueFiles::~QueueFiles() {
  if (!committed_) abort();
}

// Steps 3 and 4: a fresh inode through pid/, then its name in mess/; the
// Received line starts the message.
int QueueFiles::open() {
  std::string pidfn;
  int fd = -1;
  unsigned long pidname = job_.pidfile_pid ? job_.pidfile_pid : job_.pid;
  for (int seq = 1; seq < 10 && fd < 0; ++seq) {
    pidfn = "pid/" + std::to_string(pidname) + "." + std::to_string(job_.now) + "." +
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
  buf_ = received_line(job_.pid, job_.how, job_.now);
  return 0;
}

// Step 5: the message verbatim after the Received line, written in chunks.
int QueueFiles::write_message(std::string_view bytes) {
  buf_.append(bytes);
  if (buf_.size() < kChunk) return 0;
  if (!reactor::write_all(mess_fd_.get(), buf_)) return qq_exit::kWrite;
  buf_.clear();
  return 0;
}

// Step 6 begins: the rest of the message out, intd/N with u<uid>\0 p<pid>\0.
int QueueFiles::end_message() {
  if (!buf_.empty() && !reactor::write_all(mess_fd_.get(), buf_)) return qq_exit::kWrite;
  buf_.clear();
  int fd = ::openat(q_, intd_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return qq_exit::kIntd;
  intd_fd_.reset(fd);
  made_intd_ = true;
  buf_ = "u" + std::to_string(job_.uid) + '\0' + "p" + std::to_string(job_.pid) + '\0';
  parser_ = EnvelopeParser(job_.extra);
  return 0;
}

int QueueFiles::write_envelope(std::string_view bytes, size_t* used) {
  parser_.feed(bytes, buf_, used);
  // Envelopes can be long (many recipients): write as we go, bounded memory.
  if (buf_.size() >= kChunk) {
    if (!reactor::write_all(intd_fd_.get(), buf_)) return qq_exit::kWrite;
    buf_.clear();
  }
  return 0;
}

int QueueFiles::end_envelope() {
  if (int code = parser_.exit_code_at_eof(); code != 0) return code;
  if (!reactor::write_all(intd_fd_.get(), buf_)) return qq_exit::kWrite;
  buf_.clear();
  return 0;
}

int QueueFiles::sync_files() {
  if (::fsync(mess_fd_.get()) != 0 || ::fsync(intd_fd_.get()) != 0) return qq_exit::kWrite;
  return 0;
}

// Step 7: the message exists for qmail-send once todo/N does.
int QueueFiles::commit() {
  if (::linkat(q_, intd_.c_str(), q_, todo_.c_str(), 0) != 0) return qq_exit::kTodo;
  committed_ = true;
  mess_fd_.reset();
  intd_fd_.reset();
  return 0;
}

// Truncate first so the space comes back even if another name still points
// at the inode, then unlink; intd before mess, as qmail does.
void QueueFiles::abort() {
  if (made_intd_) {
    if (::ftruncate(intd_fd_.get(), 0) != 0) {}
    ::unlinkat(q_, intd_.c_str(), 0);
    made_intd_ = false;
  }
  if (made_mess_) {
    if (::ftruncate(mess_fd_.get(), 0) != 0) {}
    ::unlinkat(q_, mess_.c_str(), 0);
    made_mess_ = false;
  }
  mess_fd_.reset();
  intd_fd_.reset();
}

QueueResult inject_message(int queue_dirfd, int msg_fd, int env_fd, const QueueJob& job) {
  QueueFiles f(queue_dirfd, job);
  int code = f.open();
  char in[kChunk];
  // The message: fd 0 to its end.
  while (code == 0) {
    ssize_t r = reactor::read_some(msg_fd, in, sizeof in);
    if (r < 0) code = qq_exit::kRead;
    else if (r == 0) break;
    else code = f.write_message(std::string_view(in, static_cast<size_t>(r)));
  }
  if (code == 0) code = f.end_message();
  // The envelope: fd 1 up to its final \0 (nothing after it is read).
  while (code == 0 && f.envelope_status() == EnvelopeParser::Status::more) {
    ssize_t r = reactor::read_some(env_fd, in, 4096);
    if (r < 0) code = qq_exit::kRead;
    else if (r == 0) break;
    else code = f.write_envelope(std::string_view(in, static_cast<size_t>(r)));
  }
  if (code == 0) code = f.end_envelope();
  if (code == 0) code = f.sync_files();
  if (code == 0) code = f.commit();
  if (code != 0) return {code, 0};
  pull_trigger(queue_dirfd);
  return {qq_exit::kOk, f.id()};
}

}  // namespace queue
