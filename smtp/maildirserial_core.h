#pragma once
// maildirserial's pieces (serialmail 0.75): the maildir scan, the client
// report stream, what each K/Z/D report does to the file, the bounce it
// sends, and the command lines of the maildirsmtp/maildirqmtp wrappers.

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/result.h"

namespace smtp {

/// One message file of the maildir, relative to it ("new/1.2.host").
struct MaildirFile {
  std::string name;
  std::time_t mtime = 0;
};

/// Lists new/ and cur/ of the maildir in the current directory, oldest first,
/// leaving out dot files and files modified at or after `now` (they may still
/// be arriving in this second).
reactor::Result<std::vector<MaildirFile>> scan_maildir(std::time_t now);

/// Removes files in tmp/ not touched for 36 hours (maildir's rule).
void clean_maildir_tmp(std::time_t now);

/// One report of a client: file name, status letter, text (without the LF).
struct ClientReport {
  std::string fn;
  char status = 0;
  std::string text;
};

/// Splits the client's output into reports: `fn` NUL status text LF.
class ReportParser {
 public:
  /// Appends output bytes of the client.
  void feed(std::string_view bytes) { buf_.append(bytes); }
  /// The next complete report, or nullopt (an incomplete one stays buffered).
  std::optional<ClientReport> next();

 private:
  std::string buf_;
};

/// What happens to a file after its report.
enum class FileAction { kRemove, kBounce, kKeepFailed, kKeepTemporary };
/// The action and whether the message ran out of lifetime.
struct Decision {
  FileAction action;
  bool timed_out = false;
};
/// K removes; Z older than `lifetime` (if given) counts as D; D bounces with
/// `bounce`, otherwise stays. `mtime` nullopt: unknown age (stays alive).
Decision decide(char status, bool bounce, std::optional<unsigned long> lifetime,
                std::optional<std::time_t> mtime, std::time_t now);

/// The control files maildirserial's bounces use (defaults chained via me).
struct BounceControls {
  std::string bouncefrom = "MAILER-DAEMON";
  std::string bouncehost = "me";
  std::string doublebounceto = "postmaster@me";  ///< complete address
};
/// Reads control/{me,bouncefrom,bouncehost,doublebouncehost,doublebounceto} under `home`.
reactor::Result<BounceControls> load_bounce_controls(const std::string& home);

/// A bounce ready for qmail-queue.
struct Bounce {
  bool triple = false;   ///< the failed message was itself a double bounce: discard it
  std::string sender;    ///< envelope sender of the bounce ("" or "#@[]")
  std::string recipient;
  std::string message;
};
/// Builds the bounce of maildir `file` whose delivery failed with `why`
/// (ends in LF); nullopt if the file lacks the Return-Path/Delivered-To lines.
std::optional<Bounce> make_bounce(std::string_view file, std::string_view prefix, std::string_view why,
                                  bool timed_out, const BounceControls& c, std::string_view date);

/// argv of maildirsmtp (`qmtp` false: dir prefix host helohost) or
/// maildirqmtp (`qmtp` true: dir prefix host): maildirserial -b -t 1209600
/// under tcpclient -RHl0 to `port`, with programs from `bindir`.
std::vector<std::string> wrapper_argv(bool qmtp, const std::vector<std::string>& args,
                                      const std::string& bindir, const std::string& tcpclient,
                                      const std::string& port);

}  // namespace smtp
