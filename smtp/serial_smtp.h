#pragma once
// serialsmtp's SMTP dialogue (serialmail 0.75): greeting, EHLO with HELO
// fallback, one MAIL/RCPT/DATA transaction per maildir file with RSET
// between them, PIPELINING when the server offers it, and the K/Z/D report.

#include <optional>
#include <string>
#include <string_view>

#include "reactor/result.h"
#include "smtp/serial_message.h"
#include "smtp/wire.h"

namespace smtp {

/// The server connection as serialsmtp sees it (fd 6/7 in the program,
/// a scripted fake in tests).
class SerialPeer {
 public:
  virtual ~SerialPeer() = default;
  /// Queues bytes for the server.
  virtual void send(std::string_view bytes) = 0;
  /// Writes everything queued; Error when the network write fails.
  virtual reactor::Status flush() = 0;
  /// Reads the next complete reply; Error on end of file, read error or timeout.
  virtual reactor::Result<Reply> reply() = 0;
};

/// One serialsmtp session over a SerialPeer.
class SerialSmtp {
 public:
  /// `remoteip` (TCPREMOTEIP, may be null) is quoted in every report.
  SerialSmtp(SerialPeer& peer, std::string prefix, std::string helohost, const char* remoteip)
      : peer_(peer), prefix_(std::move(prefix)), helohost_(std::move(helohost)), remoteip_(remoteip) {}

  /// Reads the greeting and introduces us (EHLO, HELO if EHLO is refused).
  reactor::Status greet();
  /// Sends the maildir file `fn` whose whole content is `file`. Returns the
  /// report line, or nullopt if the file is skipped (not qmail-local's
  /// format or recipient without the prefix). Error: the session is unusable.
  reactor::Result<std::optional<std::string>> deliver(std::string_view fn, std::string_view file);
  /// Sends QUIT (the reply is not awaited, as serialsmtp).
  void quit();
  /// True once the server announced PIPELINING in its EHLO reply.
  bool pipelining() const { return pipelining_; }

 private:
  reactor::Result<Reply> next();
  std::string report(std::string_view fn, const Reply& r) const;

  SerialPeer& peer_;
  std::string prefix_, helohost_;
  const char* remoteip_;
  bool pipelining_ = false;
  bool need_rset_ = false;
};

/// The reply's last line as it came over the wire ("250 ok"), for reports.
std::string last_reply_line(const Reply& r);

}  // namespace smtp
