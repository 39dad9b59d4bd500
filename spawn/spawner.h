#pragma once
// The common machinery of qmail's spawn.c, shared by the spawners: the
// hello (classic or wide, queue/spawn_proto.h), request checks, delivery
// slots, one child per delivery with its output collected, and one report
// per delivery. What a child runs and how its result reads is the channel's.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <sys/types.h>

#include "reactor/fd.h"
#include "reactor/loop.h"
#include "queue/spawn_proto.h"

namespace spawn {

constexpr size_t kTruncReport = 3000;  ///< qmail's truncreport: cap on one delivery's output

/// The output of one delivery child, cut like qmail's spawn.c does.
class OutputCollector {
 public:
  /// Appends bytes; past kTruncReport the text is cut and ends with a note.
  void add(std::string_view bytes);
  const std::string& text() const { return text_; }
  void clear() { text_.clear(); truncated_ = false; }

 private:
  std::string text_;
  bool truncated_ = false;
};

/// Validates a request as the spawner must; the error report ("D..."/"Z...") or nullopt.
std::optional<std::string> check_request(const queue::proto::Request& r, int slots, bool slot_busy);

/// How many slots a spawner can serve with `fd_limit` descriptors when each
/// delivery costs `per_child` of them (a few are kept for the spawner itself).
unsigned slots_for_fds(unsigned long fd_limit, unsigned per_child);
/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the soft limit now.
unsigned long raise_fd_limit();

/// A channel's part of spawning: start one child, and read its result.
class Channel {
 public:
  virtual ~Channel() = default;
  /// Forks a child for `r` with fd 0 = `fd_mess`, fd 1 and 2 = `fd_out`
  /// (both to be closed by the caller). Returns its pid, or -1 with errno.
  virtual pid_t launch(const queue::proto::Request& r, int fd_mess, int fd_out) = 0;
  /// Report letter and text for a child that ended with `wstat` and wrote `output`.
  virtual std::string report(int wstat, const std::string& output) = 0;
  /// A report to send at once instead of launching (after the message checks), if any.
  virtual std::optional<std::string> shortcut(const queue::proto::Request&) { return std::nullopt; }
};

/// The spawn loop: requests on `in`, reports on `out`, children through `ch`.
class Spawner {
 public:
  /// `slots` offered; `wide` says the pipe uses two-byte slots (hello > 255).
  Spawner(reactor::Loop& loop, Channel& ch, unsigned slots, bool wide, int in = 0, int out = 1);
  ~Spawner();
  Spawner(const Spawner&) = delete;
  Spawner& operator=(const Spawner&) = delete;
  /// Writes the hello and starts reading requests.
  void start();
  /// True once the input is closed and every delivery has reported.
  bool finished() const;
  /// Set when the request stream was unusable (a field over its cap).
  bool protocol_error() const { return protocol_error_; }
  /// Deliveries running now.
  unsigned busy() const { return busy_; }

 private:
  struct Slot;
  void on_input();
  void handle(const queue::proto::Request& r);
  void on_output(unsigned slot);
  void on_exit(unsigned slot, int wstat);
  void maybe_report(unsigned slot);
  void send(unsigned slot, const std::string& letter_and_text);
  void check_done();

  reactor::Loop& loop_;
  Channel& ch_;
  unsigned nslots_;
  bool wide_;
  int in_, out_;
  reactor::Io input_;
  queue::proto::RequestDecoder decoder_;
  std::vector<std::unique_ptr<Slot>> slots_;
  uid_t qmailq_uid_ = 0;
  unsigned busy_ = 0;
  bool reading_ = true;
  bool writing_ = true;
  bool protocol_error_ = false;
};

}  // namespace spawn
