#pragma once
// The network side of serialmail's UCSPI clients: the server on fd 6 (read)
// and fd 7 (write) as tcpclient hands it over, with serialmail's timeouts,
// and reading the NUL-terminated file names of maildirserial on stdin.

#include <optional>
#include <string>

#include "smtp/serial_smtp.h"

namespace smtp {

/// SerialPeer over two descriptors with per-operation timeouts (seconds).
class FdPeer : public SerialPeer {
 public:
  FdPeer(int rfd, int wfd, int read_timeout, int write_timeout)
      : rfd_(rfd), wfd_(wfd), rto_(read_timeout), wto_(write_timeout) {}
  void send(std::string_view bytes) override { out_.append(bytes); }
  reactor::Status flush() override;
  reactor::Result<Reply> reply() override;

 private:
  int rfd_, wfd_, rto_, wto_;
  std::string out_;
  ReplyParser parser_{65536};
};

/// Waits up to `seconds` for `fd` to be ready for `events` (POLLIN/POLLOUT);
/// false on timeout or poll failure.
bool wait_fd(int fd, short events, int seconds);

/// Reads the next NUL-terminated name from `fd` (buffered in `buf`).
/// nullopt at end of input (a partial last name is ignored, as getln does);
/// Error on read failure.
reactor::Result<std::optional<std::string>> read_name(int fd, std::string& buf);

}  // namespace smtp
