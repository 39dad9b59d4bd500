#pragma once
// Runs one Session over a ucspi fd pair (0/1) with a libev loop: reads
// feed the machine, replies are written before the next read (which is what
// makes PIPELINING work), with qmail's per-read timeout and a total cap.
// With a TLS context, the session's bytes go through reactor/tls.h once the
// machine asks for it (STARTTLS) or from the start (implicit TLS); the
// handshake is bounded by the same timeouts.

#include <memory>
#include <string>

#include "reactor/tls.h"
#include "smtp/smtpd_session.h"

namespace smtp {

/// Time limits and transport of one connection.
struct DriverOptions {
  double idle_timeout = 1200;  ///< seconds to wait for each read or write (timeoutsmtpd)
  double lifetime = 2400;      ///< seconds for the whole session (0: none)
  std::shared_ptr<reactor::tls::Context> tls;  ///< set: TLS can be started (STARTTLS)
  bool implicit_tls = false;   ///< TLS from the first byte (SMTPS, port 465)
  std::string log_name = "qmail-smtpd";  ///< how log lines on fd 2 begin
};

/// Drives `s` until it closes, the client goes away or a limit passes.
void run_session(Session& s, DriverOptions opt, int rfd = 0, int wfd = 1);

}  // namespace smtp
