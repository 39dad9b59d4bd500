#pragma once
// Maildir writing as qmail-local(8) does it (tmp, fsync, link into new, unlink
// tmp), with the collision-free names of Courier/Dovecot that local-delivery.md
// 3.6 asks for, and a small reader of new/ and cur/ for qmail-pop3d.

#include <ctime>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "reactor/result.h"

namespace queue {

/// `host` with `/` written as `\057` and `:` as `\072`.
std::string maildir_escape_host(std::string_view host);
/// `<sec>.M<usec>P<pid>Q<counter>.<escaped host>` (no size part).
std::string maildir_base_name(std::time_t sec, long usec, pid_t pid, unsigned long counter,
                              std::string_view host);

/// Delivers `head` followed by the rest of `msgfd` (from its current offset)
/// into the Maildir `dir` (relative names are relative to the cwd). Returns the
/// name created under new/ (`<base>,S=<size>`). Every failure is temporary,
/// with qmail's texts ("Unable to chdir to maildir. (#4.2.1)", ...).
reactor::Result<std::string> maildir_deliver(const std::string& dir, std::string_view head, int msgfd);

/// One message of a Maildir.
struct MaildirEntry {
  std::string sub;   ///< "new" or "cur"
  std::string name;  ///< file name, including any ":2,flags" info
  off_t size = 0;    ///< bytes on disk
  std::time_t mtime = 0;
};

/// Lists the regular files of new/ then cur/, each part sorted by name;
/// names starting with `.` are skipped. Error (temporary) if a subdirectory cannot be read.
reactor::Result<std::vector<MaildirEntry>> maildir_list(const std::string& dir);

}  // namespace queue
