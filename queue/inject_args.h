#pragma once
// Command lines of qmail-inject(8) and of the sendmail wrapper (inject.md 1.1
// and 2), parsed the way qmail's sgetopt does: options end at the first
// non-option word or at `--`, letters may be clustered, `-fX` and `-f X` agree.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "queue/inject.h"

namespace queue {

/// qmail-inject's options.
struct InjectArgs {
  RecipMode mode = RecipMode::deflt;
  bool queue = true;                  // -N (default) / -n
  std::optional<std::string> sender;  // -f
  std::vector<std::string> recipients;
};

/// Parses `qmail-inject [-nNaAhH] [-fsender] [recip ...]` (argv without the program name).
reactor::Result<InjectArgs> parse_inject_args(const std::vector<std::string>& args);

/// What the sendmail wrapper does.
struct SendmailPlan {
  enum class Action { inject, mailq, smtpd, newaliases, usage };
  Action action = Action::inject;
  /// Program and arguments to exec, relative to the qmail home ("bin/qmail-inject", ...).
  std::vector<std::string> argv;
  /// Environment variables to set before the exec.
  std::vector<std::pair<std::string, std::string>> setenv;
};

/// Translates a sendmail command line; `progname` is argv[0]'s base name
/// (`mailq`, `newaliases` select those behaviours); `proto_set` tells whether
/// $PROTO exists (then -bs leaves the TCP variables alone).
SendmailPlan plan_sendmail(const std::string& progname, const std::vector<std::string>& args, bool proto_set);

}  // namespace queue
