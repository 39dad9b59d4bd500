#include "smtp/serial_qmtp.h"

#include <cerrno>
#include <deque>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "reactor/fd.h"
#include "smtp/netstring.h"
#include "smtp/serial_io.h"

namespace smtp {

namespace {

constexpr size_t kReplyCap = 65536;      // a QMTP reply is a short text
constexpr size_t kOutHighWater = 65536;  // read the next file only below this
constexpr int kWriteTimeout = 73;        // serialmail's timeouts (seconds)
constexpr int kReadTimeout = 3600;

}  // namespace

std::string qmtp_encode(std::string_view body, std::string_view sender, std::string_view recipient) {
  std::string msg = "\n";
  msg.append(body);
  return netstring(msg) + netstring(sender) + netstring(netstring(recipient));
}

std::optional<QmtpReply> parse_qmtp_reply(std::string_view data) {
  if (data.empty()) return std::nullopt;
  char c = data[0];
  if (c != 'K' && c != 'Z' && c != 'D') return std::nullopt;
  return QmtpReply{static_cast<SerialStatus>(c), std::string(data.substr(1))};
}

reactor::Status run_serialqmtp(int in_fd, int out_fd, int rfd, int wfd, const std::string& prefix,
                               const char* remoteip) {
  std::string names, out;
  size_t out_off = 0;
  std::deque<std::string> pending;  // files sent, reply not yet read
  bool input_done = false;
  NetstringDecoder dec(kReplyCap);
  reactor::set_nonblock(rfd);
  reactor::set_nonblock(wfd);

  for (;;) {
    // Queue more messages while the output buffer is small.
    while (!input_done && out.size() - out_off < kOutHighWater) {
      auto n = read_name(in_fd, names);
      if (!n) return n.error();
      if (!*n) {
        input_done = true;
        break;
      }
      auto content = reactor::read_file(**n);
      if (!content) return reactor::temp_error("unable to read file " + **n + ": " + content.error().text);
      auto env = parse_serial_envelope(*content);
      if (!env) continue;
      auto rcpt = strip_prefix(env->recipient, prefix);
      if (!rcpt) continue;
      pending.push_back(**n);
      out += qmtp_encode(std::string_view(*content).substr(env->header_bytes), env->sender, *rcpt);
    }
    if (out_off == out.size()) {
      out.clear();
      out_off = 0;
    }
    if (input_done && pending.empty() && out.empty()) return {};

    pollfd p[2];
    int np = 0, ir = -1, iw = -1;
    if (!pending.empty()) { p[np] = {rfd, POLLIN, 0}; ir = np++; }
    if (!out.empty()) { p[np] = {wfd, POLLOUT, 0}; iw = np++; }
    int r = ::poll(p, static_cast<nfds_t>(np), (out.empty() ? kReadTimeout : kWriteTimeout) * 1000);
    if (r < 0) {
      if (errno == EINTR) continue;
      return reactor::temp_error("poll failed: " + reactor::errno_text(errno));
    }
    if (r == 0) return reactor::temp_error(out.empty() ? "network read error: timed out" : "unable to write to network: timed out");
    if (iw >= 0 && (p[iw].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = ::write(wfd, out.data() + out_off, out.size() - out_off);
      if (w < 0 && errno != EAGAIN && errno != EINTR)
        return reactor::temp_error("unable to write to network: " + reactor::errno_text(errno));
      if (w > 0) out_off += static_cast<size_t>(w);
    }
    if (ir >= 0 && (p[ir].revents & (POLLIN | POLLERR | POLLHUP))) {
      char buf[4096];
      ssize_t n = ::read(rfd, buf, sizeof buf);
      if (n == 0) return reactor::temp_error("network read error: end of file");
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        return reactor::temp_error("network read error: " + reactor::errno_text(errno));
      }
      dec.feed(std::string_view(buf, static_cast<size_t>(n)));
      while (auto data = dec.next()) {
        auto rep = parse_qmtp_reply(*data);
        if (!rep || pending.empty()) return reactor::temp_error("remote protocol violation");
        std::string line = serial_result(pending.front(), rep->status, remoteip, rep->text);
        pending.pop_front();
        if (!reactor::write_all(out_fd, line))
          return reactor::temp_error("unable to write output: " + reactor::errno_text(errno));
      }
      if (dec.error()) return reactor::temp_error("remote protocol violation");
    }
  }
}

}  // namespace smtp
