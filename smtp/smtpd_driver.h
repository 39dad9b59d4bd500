#pragma once
// Runs one Session over a ucspi fd pair (0/1) with a libev loop: reads
// feed the machine, replies are written before the next read (which is what
// makes PIPELINING work), with qmail's per-read timeout and a total cap.

#include "smtp/smtpd_session.h"

namespace smtp {

/// Time limits of one connection.
struct DriverOptions {
  double idle_timeout = 1200;  ///< seconds to wait for each read or write (timeoutsmtpd)
  double lifetime = 2400;      ///< seconds for the whole session (0: none)
};

/// Drives `s` until it closes, the client goes away or a limit passes.
void run_session(Session& s, DriverOptions opt, int rfd = 0, int wfd = 1);

}  // namespace smtp
