#pragma once
// Starting child processes the qmail way (fork, then exec at once): an fd
// map, an explicit environment and argv, an optional uid/gid drop; and a
// blocking wait that decodes the exit status.

#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "reactor/result.h"

namespace reactor {

/// What to run and how.
struct ChildSpec {
  std::vector<std::string> argv;                    ///< argv[0] is the program (PATH searched if no '/')
  std::optional<std::vector<std::string>> env;      ///< "K=V" entries; nullopt: inherit ours
  std::vector<std::pair<int, int>> fds;             ///< {child fd, our fd}; -1 as our fd closes it
  std::optional<uid_t> uid;                         ///< setuid after setgid (none: keep ours)
  std::optional<gid_t> gid;                         ///< setgroups({gid}) + setgid
  std::string cwd;                                  ///< chdir before exec (empty: stay)
  bool new_session = false;                         ///< setsid() in the child
};

/// In a freshly forked child, before exec: unblocks every signal and puts
/// back the default action of those an event loop catches or ignores (PIPE,
/// CHLD, TERM, ALRM, HUP), so the program run gets qmail's defaults and no
/// signal runs the parent's handlers in the child meanwhile.
void reset_signals_for_exec();

/// Forks and execs; returns the pid, or an Error if fork or exec failed
/// (exec failure is reported back over a close-on-exec pipe).
Result<pid_t> spawn_child(const ChildSpec& spec);

/// How a child ended.
struct ExitStatus {
  bool signaled = false;
  int code = 0;    ///< exit code when !signaled
  int signal = 0;  ///< signal number when signaled
  bool success() const { return !signaled && code == 0; }
};
/// Decodes a wait(2) status.
ExitStatus decode_status(int status);
/// "exit 0", "exit 111", "signal 9".
std::string to_string(const ExitStatus& s);
/// Blocks until `pid` ends (retrying EINTR).
Result<ExitStatus> wait_child(pid_t pid);

}  // namespace reactor
