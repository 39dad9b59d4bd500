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

/// The mark qmail-queued looks for in bin/qmail-queue (see qmail-queued.8).
#define EVQ_QUEUED_MARK "@(#)evqmail qmail-queue: qmail-queued may stand in for this program"

namespace queue {

/// qmail-queued (doc/qmail-queued.8): its socket, relative to the home, and
/// its protocol. On connecting a caller reads one byte: 'Y' (go on) or 'N'
/// (run qmail-queue instead). It then sends the message as frames (a 4-byte
/// big-endian length of 1..kQueuedFrame, that many bytes), a frame of
/// length 0, and the envelope exactly as qmail-queue reads it on fd 1. The
/// answer is one byte, qmail-queue's exit code, once the message is
/// durable and in todo/; EOF without it means nothing was queued.
constexpr const char* kQueuedSocket = "queued/socket";
constexpr unsigned kQueuedFrame = 65536;

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
  /// With `via_daemon`, and neither `ignore_env` nor `$QMAILQUEUE` set, the
  /// message goes to qmail-queued when it is running and takes it (same
  /// files, same exit codes); otherwise qmail-queue runs as without.
  reactor::Status start(bool ignore_env = false, bool via_daemon = false);
  /// pid of the running qmail-queue (the `qp` number in logs); ours when
  /// qmail-queued takes the message (the number in its Received line).
  pid_t pid() const { return pid_; }
  /// Whether qmail-queued took this message.
  bool via_daemon() const { return sock_.valid(); }
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
  bool connect_daemon();
  void flush_frame();
  reactor::Status finish_daemon();

  reactor::UniqueFd msg_, env_, err_, sock_;
  std::string frame_;
  pid_t pid_ = -1;
  std::string sender_, rcpts_;
  bool write_failed_ = false;
};

}  // namespace queue
