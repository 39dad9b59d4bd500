#pragma once
// A bounded, non-blocking byte stream over one or two fds (a socket, or a
// ucspi pair 0/1): Buffer + libev watchers, line or data framing, write-first
// output, one lazy idle timer and an optional total lifetime.

#include <functional>
#include <string>
#include <string_view>

#include "reactor/buffer.h"
#include "reactor/fd.h"
#include "reactor/loop.h"

namespace reactor {

/// Why a Stream failed.
enum class StreamError { io, idle_timeout, lifetime, line_too_long, output_full };
/// "io", "timeout", ... for logs.
const char* to_string(StreamError e);

/// Limits and framing of a Stream.
struct StreamOptions {
  size_t max_in = 64u << 10;     ///< input buffer cap
  size_t max_line = 1000;        ///< line mode: longest line content (0: max_in only)
  size_t max_out = 1u << 20;     ///< output buffer cap
  size_t read_chunk = 16u << 10; ///< bytes asked of one read(2)
  double idle_timeout = 0;       ///< seconds without I/O before failing (0: none)
  double lifetime = 0;           ///< seconds from start() before failing (0: none)
  bool lines = true;             ///< deliver lines (on_line) rather than data (on_data)
};

/// A non-blocking stream. A callback may close() the stream but must never
/// destroy it: the owner reaps closed streams after the loop iteration.
class Stream {
 public:
  /// Called per complete line (without its end; crlf says whether it ended CR LF).
  std::function<void(std::string_view line, bool crlf)> on_line;
  /// Data mode: new input is in `in`; consume what was used.
  std::function<void(Buffer& in)> on_data;
  /// The peer closed its side; unread bytes (a partial line) stay in input().
  std::function<void()> on_eof;
  /// The stream failed and is now closed; `err_no` is errno for io, else 0.
  std::function<void(StreamError e, int err_no)> on_error;
  /// All queued output has been written.
  std::function<void()> on_drain;

  /// Takes ownership of `rfd` and `wfd` (may be equal); makes them non-blocking.
  Stream(Loop& loop, int rfd, int wfd, StreamOptions opt = {});
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  /// Starts reading and the timers.
  void start();
  /// Queues `data`; writes at once if nothing is pending. False if closed or over the cap.
  bool write(std::string_view data);
  /// Closes as soon as all queued output is written.
  void close_after_flush();
  /// Stops watchers and closes the fds now; safe inside callbacks.
  void close();
  bool closed() const { return closed_; }
  bool eof() const { return eof_; }
  /// Stops delivering input (already buffered lines wait) until resume_reading().
  void pause_reading();
  void resume_reading();
  /// Bytes waiting to be written.
  size_t pending_output() const { return out_.size(); }
  Buffer& input() { return in_; }
  /// Switches between line and data framing (e.g. for an SMTP DATA body).
  void set_line_mode(bool lines) { opt_.lines = lines; }

 private:
  void on_readable();
  void on_writable();
  void on_timer();
  void dispatch();
  void flush();
  void fail(StreamError e, int err_no);
  void touch();
  void arm_timer();
  void update_read_watcher();

  Loop& loop_;
  StreamOptions opt_;
  UniqueFd rfd_;
  UniqueFd wfd_;  // invalid when the same fd serves both directions
  int wfd_raw_;
  Buffer in_;
  Buffer out_;
  Io reader_;
  Io writer_;
  Timer timer_;
  double started_ = 0;
  double last_activity_ = 0;
  bool closed_ = false;
  bool eof_ = false;
  bool paused_ = false;
  bool dispatching_ = false;
  bool close_when_flushed_ = false;
};

}  // namespace reactor
