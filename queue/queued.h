#pragma once
// qmail-queued's loop (doc/qmail-queued.8): callers connect to a UNIX
// socket, are known by SO_PEERCRED, and stream a message and its envelope
// (the protocol of queue/qq.h); each message is written with qmail-queue's
// layout and sequence (QueueFiles), the messages of concurrent callers are
// made durable by one group commit (a Syncer), and only then is todo/N
// linked and each caller answered with qmail-queue's exit code.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "queue/queue_writer.h"
#include "queue/syncer.h"
#include "reactor/fd.h"
#include "reactor/loop.h"
#include "reactor/result.h"

namespace queue {

/// What the daemon needs from its surroundings (the real program fills it
/// from the home; unit tests from a scratch queue).
struct QueuedConfig {
  int queue_dirfd = -1;                         ///< QMAILHOME/queue
  std::optional<uid_t> alias, qmaild, qmails;   ///< for the Received line
  int split = kConfSplit;
  /// control/queueextra for the next message (read per message, as qmail-queue does).
  std::function<reactor::Result<std::string>()> extra;
  /// Whether messages may come here now (bin/qmail-queue is ours); false: 'N'.
  std::function<bool()> ready;
  size_t max_conns = 256;      ///< beyond: 'N', the caller runs qmail-queue
  double death = kQqDeath;     ///< seconds a caller may take (qmail-queue's alarm)
  unsigned long own_pid = 0;   ///< for pid/ names
};

class QueueDaemon {
 public:
  QueueDaemon(reactor::Loop& loop, Syncer& syncer, QueuedConfig cfg);
  ~QueueDaemon();
  QueueDaemon(const QueueDaemon&) = delete;
  QueueDaemon& operator=(const QueueDaemon&) = delete;

  /// Starts accepting on `fd` (a listening, non-blocking UNIX stream socket).
  void listen(int fd);
  /// Stops accepting and drops every unanswered message (its files removed).
  void shutdown();
  size_t connections() const { return conns_.size(); }
  /// Messages queued so far (answered 0).
  std::uint64_t queued() const { return queued_; }

 private:
  struct Conn;
  void on_accept();
  void on_read(Conn& c);
  void feed(Conn& c, std::string_view in);
  void answer(Conn& c, int code);
  void drop(Conn& c);
  void kick_sync();
  void synced(std::vector<std::uint64_t> ids, bool ok);
  void reap();

  reactor::Loop& loop_;
  Syncer& syncer_;
  QueuedConfig cfg_;
  int listen_fd_ = -1;
  reactor::Io accept_io_;
  reactor::Timer reaper_;
  std::map<std::uint64_t, std::unique_ptr<Conn>> conns_;
  std::vector<std::unique_ptr<Conn>> dead_;
  std::vector<std::uint64_t> ready_;  ///< written, waiting for the next commit
  bool syncing_ = false;
  std::uint64_t next_id_ = 1, queued_ = 0;
};

}  // namespace queue
