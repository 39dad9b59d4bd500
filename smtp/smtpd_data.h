#pragma once
// qmail-smtpd's blast(): the DATA decoder. CR LF becomes LF, a leading dot is
// removed, ".<CR><LF>" after a line end finishes the message, and hops are
// counted in the header. Stricter than qmail: any LF without CR and any CR
// without LF is fatal, so no byte sequence can smuggle a second message.

#include <cstddef>
#include <string>
#include <string_view>

namespace smtp {

/// Incremental decoder of one message's DATA bytes.
class DataDecoder {
 public:
  /// Outcome of one feed().
  enum class Status { more, done, bare_lf, bare_cr };

  /// Decodes from `in`, appending message bytes to `out`; sets `used` to the
  /// bytes taken (on `done`, the terminator included; later bytes are commands).
  Status feed(std::string_view in, std::string& out, size_t& used);
  /// Received/Delivered header lines seen so far.
  int hops() const { return hops_; }

 private:
  void count_hops(char ch);

  enum class S { bol, mid, dot, dotcr, cr } s_ = S::bol;
  // hop counter (notqmail's bounded variant of qmail's header scan)
  bool in_header_ = true;
  int pos_ = 0;
  bool maybe_received_ = true, maybe_end_ = true, maybe_delivered_ = true;
  int hops_ = 0;
};

}  // namespace smtp
