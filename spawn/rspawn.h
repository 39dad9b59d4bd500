#pragma once
// qmail-rspawn(8): the remote channel of the spawner. Runs qmail-remote (or
// $QMAILREMOTE) per delivery and turns its r/h/s + K/Z/D reports into one
// report for qmail-send, as qmail-rspawn.c does [COMPAT].

#include <string>
#include <string_view>

#include "spawn/spawner.h"

namespace spawn {

/// qmail-rspawn's translation of one qmail-remote run (wait status, output).
std::string rspawn_report(int wstat, std::string_view output);

/// How many slots qmail-rspawn offers for `fd_limit` descriptors, classic
/// (<= 255) or wide, and whether the limit keeps it below `wanted`.
struct SlotPlan {
  unsigned slots = 0;
  bool wide = false;
  bool fd_limited = false;
};
SlotPlan plan_slots(unsigned long fd_limit, bool wide_ok, unsigned wanted = 1000);

/// The remote channel: argv = {program, domain, sender, recipient}.
class RemoteChannel : public Channel {
 public:
  /// `program`: path of qmail-remote (e.g. QMAILHOME/bin/qmail-remote or $QMAILREMOTE).
  explicit RemoteChannel(std::string program) : program_(std::move(program)) {}
  pid_t launch(const queue::proto::Request& r, int fd_mess, int fd_out) override;
  std::string report(int wstat, const std::string& output) override { return rspawn_report(wstat, output); }

 private:
  std::string program_;
};

}  // namespace spawn
