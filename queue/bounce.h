#pragma once
// qmail-send's bounces (queue.md 4.5, 4.7): bounce/N entries, the QSBMF
// single and double bounce texts, VERP expansion of the envelope sender, and
// evqmail's opt-in RFC 3464 report and returned-copy cap (control/bounceformat, bouncemaxbytes).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace queue {

/// Envelope sender rewritten for one recipient: "p@h-@[]" + "box@rh" -> "pbox=rh@h".
std::string verp_sender(std::string_view sender, std::string_view recipient);

/// One bounce/N entry: "<recip>:\n" report, inner blank lines as "/", then a blank line.
std::string bounce_entry(std::string_view recipient, std::string_view report);

/// What completion does with bounce/N, from the original sender.
enum class BounceKind { single, dbl, triple };
/// Classifies the original sender: "" double, "#@[]" triple, anything else single.
BounceKind bounce_kind(std::string_view sender);
/// The sender a bounce goes to: a VERP template "x-@host-@[]" becomes "x-@host".
std::string bounce_target(std::string_view sender);

/// qmail's quote2(): the address with its local part quoted if needed.
std::string quote_address(std::string_view addr);

/// Everything of a QSBMF bounce before the copied message: headers, text,
/// the bounce/N contents, separator and Return-Path line. `sender` is the
/// original sender after bounce_target(); `to` the bounce recipient.
std::string bounce_head(std::string_view date, std::string_view bouncefrom,
                        std::string_view bouncehost, std::string_view to, std::string_view sender,
                        std::string_view entries);

/// Bounce message formats (control/bounceformat).
enum class BounceFormat { qsbmf, rfc3464 };
/// Parses a bounceformat value ("qsbmf" or "rfc3464", any case); nullopt if unknown.
std::optional<BounceFormat> parse_bounce_format(std::string_view text);

/// One recipient paragraph of bounce/N read back.
struct BounceEntry {
  std::string recipient;  ///< without the angle brackets
  std::string report;     ///< the report lines, "/" lines turned back into empty lines
};
/// Splits the contents of bounce/N into its paragraphs.
std::vector<BounceEntry> parse_bounce_entries(std::string_view entries);

/// RFC 3463 status of a report: the last "#x.y.z", else the enhanced code of a remote reply, else "5.0.0".
std::string dsn_status(std::string_view report);
/// Diagnostic-Code value: "smtp; <reply>" for "Remote host said:", else "x-unix; " (local) or "x-qmail; ".
std::string dsn_diagnostic(std::string_view report, bool local);

/// The header of stored message `msg` (through the line before the first
/// empty line), cut after the last whole line within `max` bytes.
std::string_view message_header(std::string_view msg, size_t max);

/// Everything compose_bounce() needs besides the returned copy.
struct BounceSpec {
  std::string date;           ///< Date: value (date822 of now)
  std::string bouncefrom;     ///< control/bouncefrom
  std::string bouncehost;     ///< control/bouncehost
  std::string to;             ///< the bounce's recipient
  std::string sender;         ///< original sender after bounce_target(); "" for a double bounce
  std::string entries;        ///< contents of bounce/N
  BounceFormat format = BounceFormat::qsbmf;
  std::string reporting_mta;  ///< Reporting-MTA host (control/me)
  std::string arrival_date;   ///< Arrival-Date value (date822 of info/N's mtime)
  std::string boundary_seed;  ///< unique per bounce, e.g. "<id>.<now>"
  std::function<bool(std::string_view)> is_local;  ///< recipient delivered by qmail-local?
};

/// The returned original: the whole message, or its header alone past the cap.
struct ReturnedCopy {
  std::string_view text;     ///< message bytes, or message_header() of them
  bool header_only = false;  ///< true when the message exceeded `cap`
  unsigned long cap = 0;     ///< bouncemaxbytes in force (for the note)
  /// Set when the whole message is streamed by the caller between the head
  /// and the tail of compose_bounce_parts() instead of being in `text`:
  /// tells whether a string occurs in that message (for the MIME boundary).
  std::function<bool(std::string_view)> streamed_contains;
};

/// A bounce cut around the returned copy: head + copy + tail is the message.
struct BounceParts {
  std::string head;
  std::string tail;
};

/// A bounce in `spec.format` around `copy` (headers and body, LF lines).
/// The copy is inside `head` unless `copy.streamed_contains` is set; then
/// the caller sends the message between `head` and `tail`, and the result
/// is byte for byte what an in-memory copy gives.
BounceParts compose_bounce_parts(const BounceSpec& spec, const ReturnedCopy& copy);
/// The whole bounce in memory. QSBMF with a whole copy equals bounce_head()
/// followed by the message.
std::string compose_bounce(const BounceSpec& spec, const ReturnedCopy& copy);

/// A MIME boundary built from `seed` that occurs nowhere in `texts` (nor,
/// when `also` is given, where it says so).
std::string mime_boundary(std::string_view seed, const std::vector<std::string_view>& texts,
                          const std::function<bool(std::string_view)>& also = {});

/// Whether the file at `path` contains `needle`, read in bounded chunks; false
/// if it cannot be read.
bool file_contains(const std::string& path, std::string_view needle);

}  // namespace queue
