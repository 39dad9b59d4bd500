#pragma once
// The delivery engine of qmail-local(8): home-directory safety, Delivered-To
// loop detection, finding and running the .qmail file (programs, mbox,
// Maildir, one forwarding injection), qmail's exit codes and texts.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/result.h"
#include "spawn/local_env.h"

namespace spawn {

/// Finds an exact header line in a message streamed in chunks (3.8): the
/// header ends at the first empty line or at a last line without newline.
class HeaderLineScan {
 public:
  explicit HeaderLineScan(std::string_view line) : want_(line) {}
  /// Feeds bytes; returns true once the answer is known (no more input needed).
  bool feed(std::string_view chunk);
  /// True if a header line equalled the wanted line byte for byte.
  bool found() const { return found_; }

 private:
  std::string want_, partial_;
  bool done_ = false, found_ = false;
};

/// How qmail-local treats the wait status of a .qmail program (3.5).
enum class ProgramOutcome { ok, ok_stop, permanent, temporary, crashed };
/// Maps a waitpid() status: 0 ok, 99 ok_stop, 100/64/65/70/76/77/78/112
/// permanent, other exits temporary, signals crashed.
ProgramOutcome program_outcome(int wait_status);

/// One run of qmail-local.
class LocalDelivery {
 public:
  /// `doit` false is `-n`: print the instructions instead. `msgfd` must be seekable.
  LocalDelivery(LocalArgs args, bool doit, int msgfd = 0, int outfd = 1, int errfd = 2)
      : a_(std::move(args)), doit_(doit), msgfd_(msgfd), out_(outfd), err_(errfd) {}
  /// Runs everything and returns the exit code (0, 100, 111); failure texts go
  /// to `errfd`, `did f+w+p` / `qp N` and `-n` lines to `outfd`.
  int run();

 private:
  reactor::Status deliver();
  reactor::Status check_home();
  reactor::Status check_loop(const std::string& dtline);
  reactor::Status find_file(std::string& text, bool& forward_only, bool& found);
  reactor::Status owner_exists(const std::string& name, bool& exists);
  reactor::Status rewind();
  reactor::Status run_program(const std::string& command, bool& stop);
  reactor::Status forward(const std::vector<std::string>& rcpts, const std::string& sender);
  void say(std::string_view kind, std::string_view what);

  LocalArgs a_;
  bool doit_;
  int msgfd_, out_, err_;
  std::string dtline_, rpline_, ufline_;
  unsigned long files_ = 0, forwards_ = 0, programs_ = 0;
  long qp_ = 0;
};

}  // namespace spawn
