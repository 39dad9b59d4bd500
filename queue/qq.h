#pragma once
// The shared "open a queue" routine (qmail's qmail.c): runs bin/qmail-queue,
// or the program named by $QMAILQUEUE, feeds it the message on fd 0 and the
// envelope on fd 1, and maps its exit code to qmail's result texts
// (queue.md 2.3), including the exit-82 custom error read from fd 6.

#include <string>
#include <string_view>
#include <sys/types.h>

#include "reactor/fd.h"
#include "reactor/result.h"

namespace queue {

/// Text for a qmail-queue exit code, with the leading result letter
/// ('D' permanent, 'Z' temporary), e.g. "Zqq write error or disk full (#4.3.0)".
std::string qq_exit_text(int code);

/// One injection through qmail-queue.
class QueueClient {
 public:
  QueueClient() = default;
  ~QueueClient();
  QueueClient(const QueueClient&) = delete;
  QueueClient& operator=(const QueueClient&) = delete;

  /// Starts qmail-queue (`$QMAILQUEUE` unless `ignore_env`). Error is temporary.
  reactor::Status start(bool ignore_env = false);
  /// pid of the running qmail-queue (the `qp` number in logs).
  pid_t pid() const { return pid_; }
  /// Appends message bytes. Write errors are remembered and reported by finish().
  void put(std::string_view bytes);
  /// Copies the rest of `fd` into the message.
  void put_fd(int fd);
  /// Sets the envelope sender (sent as the F record).
  void from(std::string_view sender) { sender_ = sender; }
  /// Adds an envelope recipient (a T record).
  void to(std::string_view recipient);
  /// Closes the message, writes the envelope, waits for qmail-queue.
  /// Ok on exit 0; otherwise Error{temporary, text-without-letter}.
  reactor::Status finish();

 private:
  reactor::UniqueFd msg_, env_, err_;
  pid_t pid_ = -1;
  std::string sender_, rcpts_;
  bool write_failed_ = false;
};

}  // namespace queue
