#pragma once
// qmail-lspawn(8): the local channel of the spawner (spawn/spawner.h). Each
// delivery forks a child that finds the user (users/cdb, then qmail-getpw),
// drops to that user and runs qmail-local.

#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <sys/types.h>

#include "queue/spawn_proto.h"
#include "spawn/spawner.h"
#include "spawn/users.h"

namespace spawn {

using queue::proto::Request;

/// Report letter and text for a finished delivery child (wait status `wstat`).
std::string child_report(int wstat, std::string_view output);

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

/// The local channel: a forked child runs run_delivery_child (qmail-local).
class LocalChannel : public Channel {
 public:
  /// `defaultdelivery`: qmail-lspawn's argument, passed on to qmail-local.
  explicit LocalChannel(std::string defaultdelivery) : defaultdelivery_(std::move(defaultdelivery)) {}
  pid_t launch(const Request& r, int fd_mess, int fd_out) override;
  std::string report(int wstat, const std::string& output) override { return child_report(wstat, output); }
  /// Recipient "@domain" (the trash address): delivered by doing nothing, "K".
  std::optional<std::string> shortcut(const Request& r) override;

 private:
  std::string defaultdelivery_;
};

}  // namespace spawn
