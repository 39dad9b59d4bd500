#pragma once
// Shared pieces of the small programs used in .qmail files (preline,
// forward, condredirect, bouncesaying, except; local-delivery.md 5): running
// a program and mapping its exit code, and forwarding a message via qmail-queue.

#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <sys/types.h>

#include "reactor/result.h"

namespace spawn {

/// How a program ended.
struct ProgramStatus {
  bool crashed = false;  ///< killed by a signal
  int code = 0;          ///< exit code otherwise
};

/// Runs argv[0] through $PATH with our fds and waits. The child exits 111 if
/// exec fails temporarily, 100 otherwise (qmail's convention). Error if fork/wait fail.
reactor::Result<ProgramStatus> run_program(char* const* argv);

/// except: program exit 0 -> 100, 111 (or a crash) -> 111, anything else -> 0.
int except_exit(const ProgramStatus& s);
/// condredirect/bouncesaying: nullopt when the program said "go on" (exit 0);
/// otherwise the exit code to leave with (111 for 111 or a crash, else 0).
std::optional<int> filter_exit(const ProgramStatus& s);

/// The lines preline puts in front of the message, in qmail's order.
std::string preline_header(bool ufline, bool rpline, bool dtline, std::string_view uf, std::string_view rp,
                           std::string_view dt);

/// Queues DTLINE + the rest of `fd` from `sender` to `recipients` through
/// qmail-queue ($QMAILQUEUE honoured). Returns the qmail-queue pid (for `qp`).
reactor::Result<pid_t> forward_message(int fd, std::string_view dtline, std::string_view sender,
                                       const std::vector<std::string>& recipients);

/// Prints `text` and a newline on stderr and exits with `code`.
[[noreturn]] void die(int code, std::string_view text);

}  // namespace spawn
