#pragma once
// qmail-send's event loop (DESIGN.md "The queue manager loop"): one libev
// loop driving the Scheduler from lock/trigger, the spawn and clean pipes of
// queue.md 4.10, one timer for the earliest due work, and TERM/ALRM/HUP.

#include <optional>
#include <string>

#include "queue/controls.h"
#include "queue/spawn_proto.h"

namespace queue {

/// Runs qmail-send inside QMAILHOME/queue with the descriptors of 4.10 open.
/// `spawn_cap` are the hello bytes already read from fds 2 and 4.
/// Returns the exit code (0 after TERM).
int run_send_loop(Controls controls, const std::string& control_dir, const unsigned spawn_cap[2]);

}  // namespace queue
