#pragma once
// Netstrings (D. J. Bernstein's "len:data,"), the framing of QMTP (FAQ 5.2,
// serialmail's serialqmtp/maildirqmtp). Encoder plus a bounded decoder.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace smtp {

/// Encodes `data` as a netstring.
std::string netstring(std::string_view data);

/// Outcome of reading a netstring's length prefix.
enum class LengthState { kNeedMore, kOk, kBad };

/// Parses the "len:" prefix at the start of `in`. On kOk sets `length` and
/// `consumed` (bytes of prefix, colon included). Lengths above `cap`, leading
/// zeros beyond a single "0", missing digits and overflow are kBad.
LengthState parse_length(std::string_view in, size_t cap, size_t& length, size_t& consumed);

/// Incremental decoder of whole netstrings of at most `cap` data bytes.
class NetstringDecoder {
 public:
  explicit NetstringDecoder(size_t cap) : cap_(cap) {}
  /// Appends input bytes.
  void feed(std::string_view bytes) { buf_.append(bytes); }
  /// The next complete netstring's data, or nullopt (more input needed, or error()).
  std::optional<std::string> next();
  /// True once the input is not a netstring (the stream is then unusable).
  bool error() const { return error_; }
  /// Bytes buffered but not yet consumed.
  std::string_view pending() const { return buf_; }

 private:
  size_t cap_;
  std::string buf_;
  bool error_ = false;
};

}  // namespace smtp
