#pragma once
// SMTP wire codecs shared by every client (qmail-remote, serialsmtp): the
// DATA encoder (CRLF and dot-stuffing, RFC 5321 4.5.2) and a bounded parser
// of server replies, single- and multi-line (RFC 5321 4.2.1).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtp {

/// Turns a stored message (lines ending in LF) into DATA bytes for the wire.
/// The wire never carries a bare CR or LF: CRLF, a lone LF and a lone CR each
/// end a line and go out as CRLF, and a dot is doubled at the start of every
/// line as sent, so no stored byte sequence can end DATA early.
class DataEncoder {
 public:
  /// Appends the wire form of `bytes` to `out`. May be called piecewise.
  void feed(std::string_view bytes, std::string& out);
  /// Appends the final line break if needed and the ".\r\n" terminator.
  void finish(std::string& out);

 private:
  bool bol_ = true;        ///< at the beginning of a line
  bool cr_pending_ = false;  ///< the previous byte was a CR not yet resolved
};

/// Encodes a whole message at once (DataEncoder feed + finish).
std::string encode_data(std::string_view message);

/// True if `addr` can go between the brackets of MAIL FROM:<> or RCPT TO:<>
/// after quote_address(): no control character (CR, LF, NUL, tab, DEL)
/// anywhere, and nothing in the part that goes out unquoted (the domain, or
/// an address without '@') that would end the path or start a parameter
/// (space, '<', '>', '"', '\\').
bool wire_safe_address(std::string_view addr);

/// One complete server reply.
struct Reply {
  int code = 0;                     ///< 3-digit code; -1 if the reply was malformed
  std::vector<std::string> lines;   ///< each line's text after "NNN-" / "NNN "
  /// The reply as qmail-remote quotes it: lines joined with "/".
  std::string joined() const;
};

/// Incremental, bounded parser of server replies.
class ReplyParser {
 public:
  /// `max_bytes` caps one reply (all its lines); longer replies are cut, not kept.
  explicit ReplyParser(size_t max_bytes = 65536) : max_(max_bytes) {}
  /// Appends input bytes.
  void feed(std::string_view bytes) { buf_.append(bytes); }
  /// The next complete reply, or nullopt if more input is needed.
  std::optional<Reply> next();
  /// Bytes received but not yet part of a reply.
  size_t buffered() const { return buf_.size(); }

 private:
  size_t max_;
  std::string buf_;
  Reply cur_;
  size_t cur_bytes_ = 0;
  bool bad_ = false;
};

}  // namespace smtp
