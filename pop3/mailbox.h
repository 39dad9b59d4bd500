#pragma once
// The Maildir side of qmail-pop3d(8): tmp/ cleaning (maildir_clean), the scan
// of new/ and cur/ (maildir_scan: mtime strictly before the scan, oldest
// first), and the real unlink/rename used at QUIT.

#include <ctime>
#include <vector>

#include "pop3/pop3d.h"
#include "reactor/result.h"

namespace pop3 {

/// tmp/ debris older than this (by atime, as qmail's maildir_clean) is removed.
constexpr std::time_t kTmpMaxAge = 36 * 3600;

/// Removes files in `dir`/tmp whose atime is more than 36 hours before `now`. Returns the count.
int clean_tmp(const std::string& dir, std::time_t now);

/// Lists `dir`'s messages whose mtime is before `now`, oldest first, numbered in that order.
reactor::Result<std::vector<Message>> scan_maildir(const std::string& dir, std::time_t now);

/// FileOps on the real file system, relative to the current directory.
class RealFileOps : public FileOps {
 public:
  bool unlink(const std::string& path) override;
  bool rename(const std::string& from, const std::string& to) override;
};

}  // namespace pop3
