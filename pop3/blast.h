#pragma once
// The wire form of a retrieved message, as qmail-pop3d's blast(): lines go out
// CR LF terminated and dot-stuffed (smtp::DataEncoder), TOP stops after k body
// lines, and every message ends with CR LF "." CR LF after its last line.

#include <cstdint>
#include <string>
#include <string_view>

#include "smtp/wire.h"

namespace pop3 {

/// Streams one stored message into its POP3 wire form, chunk by chunk.
class Blaster {
 public:
  /// `limit` as pop3::Action::limit: 0 whole message, else body lines + 1.
  explicit Blaster(uint64_t limit = 0) : limit_(limit) {}
  /// Appends the wire form of `bytes` to `out`; false once the limit is reached
  /// (the rest of the file need not be read).
  bool feed(std::string_view bytes, std::string& out);
  /// Appends the end of the last line if needed and qmail's "\r\n.\r\n".
  void finish(std::string& out);

 private:
  smtp::DataEncoder enc_;
  uint64_t limit_;
  bool bol_ = true;
  bool inheaders_ = true;
  bool done_ = false;
  size_t len_ = 0;     ///< bytes of the current line so far
  bool last_cr_ = false;
};

/// Encodes a whole message at once (feed + finish).
std::string blast(std::string_view message, uint64_t limit = 0);

}  // namespace pop3
