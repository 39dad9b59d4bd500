#pragma once
// A pure, bounded byte buffer with line framing: the input and output
// buffers of a reactor::Stream (in the spirit of OpenSMTPD's iobuf and
// qmail's substdio), which never grow past their caps.

#include <cstddef>
#include <string>
#include <string_view>

namespace reactor {

/// What find_line() found at the front of the buffer.
enum class LineStatus { none, line, too_long };

/// One line at the front of a Buffer (valid until the buffer changes).
struct LineView {
  LineStatus status = LineStatus::none;
  std::string_view text;  ///< the line without LF (and without CR if crlf)
  bool crlf = false;      ///< the line ended CR LF rather than a bare LF
  size_t consumed = 0;    ///< bytes to consume to drop the line and its end
};

/// A FIFO of bytes with a hard size cap and an optional line-length cap.
class Buffer {
 public:
  /// `max_bytes`: most bytes ever held; `max_line`: longest line content (0: only max_bytes).
  explicit Buffer(size_t max_bytes = 1u << 20, size_t max_line = 0)
      : max_bytes_(max_bytes), max_line_(max_line) {}

  /// Appends all of `data`, or nothing and false if it would pass the cap.
  bool append(std::string_view data);
  /// Appends as much of `data` as fits; returns the count appended.
  size_t append_some(std::string_view data);
  /// The buffered bytes.
  std::string_view view() const { return std::string_view(data_).substr(head_); }
  size_t size() const { return data_.size() - head_; }
  bool empty() const { return size() == 0; }
  /// Bytes that may still be appended.
  size_t room() const { return max_bytes_ - size(); }
  size_t max_bytes() const { return max_bytes_; }
  size_t max_line() const { return max_line_; }
  /// Drops `n` bytes from the front (all if n > size()).
  void consume(size_t n);
  void clear();

  /// Finds a complete line at the front; too_long once the line passes max_line.
  LineView find_line() const;
  /// Removes the first line into `out` (without its end); false if none complete.
  bool take_line(std::string& out, bool* crlf = nullptr);
  /// Drops bytes through the next LF (or all if none); true if an LF was found.
  bool skip_line();

 private:
  std::string data_;
  size_t head_ = 0;
  size_t max_bytes_;
  size_t max_line_;
};

}  // namespace reactor
