#pragma once
// maildirserial's main loop (serialmail 0.75): scan the maildir, run the
// client on the selected files, act on its reports, run it again for the
// rest until nothing is left or three runs in a row make no progress.

#include <optional>
#include <string>
#include <vector>

namespace smtp {

/// Command line of maildirserial.
struct MaildirSerialOptions {
  bool bounce = false;                    ///< -b
  std::optional<unsigned long> lifetime;  ///< -t seconds
  std::string dir, prefix;
  std::vector<std::string> client;        ///< program and arguments
};

/// Parses `maildirserial [-b] [-t lifetime] dir prefix client...`; nullopt: usage error.
std::optional<MaildirSerialOptions> parse_maildirserial_args(const std::vector<std::string>& args);

/// Runs maildirserial; diagnostics on stderr; returns the exit code
/// (0 all done, 111 something stays or failed, 100 the client said so).
int run_maildirserial(const MaildirSerialOptions& o);

}  // namespace smtp
