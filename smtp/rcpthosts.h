#pragma once
// The rcpthosts check of qmail-smtpd and qmail-qmtpd (qmail's rcpthosts.c):
// control/rcpthosts with leading-dot entries, then control/morercpthosts.cdb.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "reactor/cdb.h"
#include "reactor/result.h"

namespace smtp {

/// Which recipient domains this host accepts mail for.
class RcptHosts {
 public:
  /// Reads `dir`/rcpthosts and, if that exists, `dir`/morercpthosts.cdb.
  reactor::Status load(const std::string& dir);
  /// Uses `entries` as rcpthosts (tests); `more` is an optional cdb path.
  reactor::Status set(const std::vector<std::string>& entries, const std::string& more = "");
  /// True if mail to `addr` may be accepted: no rcpthosts file, no `@`, or a listed domain.
  bool allowed(std::string_view addr);
  /// True if control/rcpthosts existed (false means: every domain accepted).
  bool have_file() const { return have_; }

 private:
  bool have_ = false;
  std::unordered_set<std::string> hosts_;
  std::unique_ptr<reactor::CdbReader> more_;
};

}  // namespace smtp
