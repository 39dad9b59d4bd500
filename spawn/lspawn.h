#pragma once
// qmail-lspawn(8): takes delivery requests from qmail-send over the spawn pipe
// (queue.md 4.3), and for each one forks a child that finds the user
// (users/cdb, then qmail-getpw), drops to that user and runs qmail-local.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <sys/types.h>

#include "reactor/fd.h"
#include "reactor/loop.h"
#include "queue/spawn_proto.h"
#include "spawn/users.h"

namespace spawn {

using queue::proto::Report;
using queue::proto::Request;
using queue::proto::RequestDecoder;

constexpr size_t kTruncReport = 3000;  ///< qmail's truncreport: cap on one delivery's output

/// The output of one delivery child, cut like qmail's spawn.c does.
class OutputCollector {
 public:
  /// Appends bytes; past kTruncReport the text is cut and ends with a note.
  void add(std::string_view bytes);
  const std::string& text() const { return text_; }
  void clear() { text_.clear(); truncated_ = false; }

 private:
  std::string text_;
  bool truncated_ = false;
};

/// Report letter and text for a finished delivery child (wait status `wstat`).
std::string child_report(int wstat, std::string_view output);

/// Validates a request as the spawner must; the error report ("D..."/"Z...") or nullopt.
std::optional<std::string> check_request(const Request& r, int slots, bool slot_busy);

/// Argument vector of qmail-local for one delivery (argv[0] is "bin/qmail-local").
std::vector<std::string> qmail_local_args(const UserEntry& u, std::string_view local, std::string_view domain,
                                          std::string_view sender, std::string_view defaultdelivery);

/// What a delivery child needs; it runs in the forked process and never returns.
struct ChildJob {
  int fd_mess = -1;           ///< becomes fd 0
  int fd_out = -1;            ///< becomes fd 1 and 2
  std::string sender;
  std::string recipient;
  size_t at = 0;              ///< index of the last '@' in recipient
  std::string defaultdelivery;
};
/// Child side: chdir home, find the user, drop privileges, exec qmail-local.
/// Exits with one of qmail's qlx codes on failure.
[[noreturn]] void run_delivery_child(const ChildJob& job);

/// Finds who controls `local` in the current directory (QMAILHOME): users/cdb,
/// then bin/qmail-getpw. Returns the entry or a qlx exit code.
struct Lookup {
  std::optional<UserEntry> entry;
  int qlx = 0;
};
Lookup find_user(const std::string& local);

/// The spawner: one libev loop reading requests on `in`, reporting on `out`.
class Lspawn {
 public:
  Lspawn(reactor::Loop& loop, std::string defaultdelivery, int in = 0, int out = 1, int slots = 120);
  ~Lspawn();
  Lspawn(const Lspawn&) = delete;
  Lspawn& operator=(const Lspawn&) = delete;
  /// Writes the hello byte and starts reading requests.
  void start();
  /// True once the input is closed and every delivery has reported.
  bool finished() const;
  /// Set when the request stream was unusable (a field over its cap).
  bool protocol_error() const { return protocol_error_; }

 private:
  struct Slot;
  void on_input();
  void handle(const Request& r);
  void on_output(int slot);
  void on_exit(int slot, int wstat);
  void maybe_report(int slot);
  void send(std::uint8_t slot, const std::string& letter_and_text);
  void check_done();

  reactor::Loop& loop_;
  std::string defaultdelivery_;
  int in_, out_, nslots_;
  reactor::Io input_;
  RequestDecoder decoder_;
  std::vector<std::unique_ptr<Slot>> slots_;
  uid_t qmailq_uid_ = 0;
  bool reading_ = true;
  bool writing_ = true;
  bool protocol_error_ = false;
};

}  // namespace spawn
