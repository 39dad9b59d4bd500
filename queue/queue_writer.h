#pragma once
// The injection half of qmail-queue(8) as a library (queue.md 2): the
// envelope codec read from fd 1 with qmail's exit codes, the Received line,
// and the create → write → fsync → link sequence into mess/, intd/, todo/.

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "queue/home.h"
#include "queue/layout.h"
#include "reactor/fd.h"

namespace queue {

/// qmail-queue's exit codes (queue.md 2.3); the text for each is qq_exit_text().
namespace qq_exit {
constexpr int kOk = 0;            ///< queued
constexpr int kAddrTooLong = 11;  ///< envelope address too long
constexpr int kNoMem = 51;        ///< out of memory
constexpr int kTimeout = 52;      ///< the 24-hour alarm went off
constexpr int kWrite = 53;        ///< write error or disk full
constexpr int kRead = 54;         ///< cannot read message or envelope
constexpr int kConfig = 55;       ///< cannot read a configuration file (control/queueextra)
constexpr int kHome = 61;         ///< cannot chdir to QMAILHOME
constexpr int kQueueDir = 62;     ///< cannot chdir to queue
constexpr int kPid = 63;          ///< trouble in pid/
constexpr int kMess = 64;         ///< trouble in mess/
constexpr int kIntd = 65;         ///< trouble in intd/
constexpr int kTodo = 66;         ///< trouble in todo/
constexpr int kBug = 81;          ///< internal bug (caught SIGSEGV and friends)
constexpr int kFormat = 91;       ///< envelope format error
}  // namespace qq_exit

/// qmail-queue's DEATH: seconds before it gives up with exit 52.
constexpr unsigned kQqDeath = 86400;
/// qmail's ADDR: an address may have at most kQqAddr - 1 = 1002 bytes.
constexpr size_t kQqAddr = 1003;

/// Incremental reader of the envelope on fd 1: `F<sender>\0`, `T<rcpt>\0`..., `\0`.
/// It produces the intd bytes (without the final `\0`, with `extra` after F).
class EnvelopeParser {
 public:
  /// Where the parser stands after consuming input.
  enum class Status { more, done, too_long, bad_format };

  /// `extra`: raw records inserted right after the F record (QUEUE_EXTRA).
  explicit EnvelopeParser(std::string extra = {}) : extra_(std::move(extra)) {}
  /// Consumes bytes from `in`, appending intd bytes to `out`; stops at the end or an error.
  /// Bytes after the final `\0` are left unconsumed (`*used` tells how many were taken).
  Status feed(std::string_view in, std::string& out, size_t* used = nullptr);
  /// The current status (done/too_long/bad_format are final).
  Status status() const { return status_; }
  /// Exit code if input ended now: 0 when done, else 54 / 11 / 91.
  int exit_code_at_eof() const;

 private:
  enum class Where { first, record_start, in_address };
  std::string extra_;
  Where where_ = Where::first;
  bool in_sender_ = false;
  size_t addr_len_ = 0;
  Status status_ = Status::more;
};

/// The `<how>` of the Received line: "by alias", "from network", "for bounce" or "by uid N".
/// Account uids that are not installed (nullopt) match nothing.
std::string received_how(uid_t uid, std::optional<uid_t> alias, std::optional<uid_t> qmaild,
                         std::optional<uid_t> qmails);
/// "Received: (qmail <pid> invoked <how>); <date822_utc(now)>\n".
std::string received_line(unsigned long pid, const std::string& how, std::time_t now);
/// The QUEUE_EXTRA bytes for a list of addresses: one `T<address>\0` per entry.
std::string queue_extra_records(const std::vector<std::string>& addresses);
/// Reads the queueextra control file at `path`: missing → "" (nothing extra);
/// unreadable, or an address over 1002 bytes → Error (qmail-queue exits 55).
reactor::Result<std::string> read_queue_extra(const std::string& path);

/// Everything one injection needs besides the descriptors.
struct QueueJob {
  uid_t uid = 0;           ///< real uid of the caller (the `u` record)
  unsigned long pid = 0;   ///< our pid (the `p` record and the Received line)
  std::time_t now = 0;     ///< start time (pid file name, Received date)
  std::string how;         ///< received_how() result
  std::string extra;       ///< queue_extra_records() result
  int split = kConfSplit;  ///< conf-split
  unsigned long pidfile_pid = 0;  ///< the number in pid/ names when not `pid` (qmail-queued's own)
};

/// Outcome of one injection.
struct QueueResult {
  int code = qq_exit::kOk;  ///< qmail-queue exit code
  MsgId id = 0;             ///< message number when code == 0
};

/// One message on its way into the queue (queue.md 2.1 steps 3–7), fed in
/// pieces: open(), write_message()..., end_message(), write_envelope()...,
/// end_envelope(), then sync_files() (or a group commit of mess_fd() and
/// intd_fd()) and commit(). Every step answers 0 or qmail-queue's exit code;
/// after a failure, or if commit() never ran, the destructor removes what was
/// made (abort()).
class QueueFiles {
 public:
  QueueFiles(int queue_dirfd, QueueJob job);
  ~QueueFiles();
  QueueFiles(const QueueFiles&) = delete;
  QueueFiles& operator=(const QueueFiles&) = delete;

  int open();
  int write_message(std::string_view bytes);
  int end_message();
  /// Takes envelope bytes up to the final `\0` (`*used`: how many were taken).
  int write_envelope(std::string_view bytes, size_t* used = nullptr);
  EnvelopeParser::Status envelope_status() const { return parser_.status(); }
  int end_envelope();
  int sync_files();
  int commit();
  void abort();
  int mess_fd() const { return mess_fd_.get(); }
  int intd_fd() const { return intd_fd_.get(); }
  MsgId id() const { return id_; }

 private:
  int q_;
  QueueJob job_;
  MsgId id_ = 0;
  std::string mess_, intd_, todo_, buf_;
  reactor::UniqueFd mess_fd_, intd_fd_;
  EnvelopeParser parser_;
  bool made_mess_ = false, made_intd_ = false, committed_ = false;
};

/// Runs steps 3–8 of queue.md 2.1 with every path relative to `queue_dirfd`
/// (QMAILHOME/queue): message from `msg_fd` to EOF, then the envelope from
/// `env_fd`. On any failure the files made so far are truncated and removed.
QueueResult inject_message(int queue_dirfd, int msg_fd, int env_fd, const QueueJob& job);

/// Pulls the trigger: one byte to `lock/trigger` (non-blocking open, errors ignored).
void pull_trigger(int queue_dirfd);

}  // namespace queue
