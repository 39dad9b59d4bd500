#pragma once
// The common face of the pure protocol machines (qmail-smtpd, qmail-qmtpd)
// that the fd driver in smtpd_driver.h runs.

#include <string>
#include <string_view>

namespace smtp {

/// A server dialogue: bytes in, replies out, no I/O of its own.
class Session {
 public:
  virtual ~Session() = default;
  /// Client bytes.
  virtual void feed(std::string_view bytes) = 0;
  /// The client closed its side.
  virtual void eof() = 0;
  /// The driver's read deadline passed.
  virtual void timeout() = 0;
  /// Replies produced so far (taken, not copied).
  virtual std::string take_output() = 0;
  /// True while take_output() has more to give (a machine that renders its
  /// replies piecewise, to bound memory).
  virtual bool output_pending() const { return false; }
  /// True once the dialogue is over.
  virtual bool closed() const = 0;
  /// Exit status for the program once closed.
  virtual int exit_code() const = 0;
  /// True once the dialogue asked for TLS (STARTTLS was accepted): the
  /// driver sends what is pending in plaintext, drops whatever plaintext
  /// follows, and starts the handshake.
  virtual bool wants_tls() const { return false; }
  /// The handshake is done: the dialogue starts afresh (RFC 3207 section
  /// 4.2) and records `cipher` for its Received line.
  virtual void tls_started(std::string_view /*cipher*/) {}
  /// Seconds the replies produced since the last call must wait before they
  /// go out (a failed AUTH); the driver reads nothing meanwhile.
  virtual double take_delay() { return 0; }
};

}  // namespace smtp
