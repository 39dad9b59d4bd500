// qmail-popup's TLS relay (see tls_relay.h).
#include "pop3/tls_relay.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "queue/home.h"
#include "reactor/fd.h"
#include "reactor/tls.h"

namespace pop3 {

namespace {

constexpr const char* kServerCert = "control/servercert.pem";
constexpr size_t kHighWater = 64 * 1024;

void log_line(const std::string& text) {
  std::string line = "qmail-popup: tls: " + text;
  if (const char* ip = std::getenv("TCPREMOTEIP")) line += std::string(" (from ") + ip + ")";
  line += "\n";
  reactor::write_all(2, line);
}

// One write that takes what the fd accepts now; false on a hard error.
bool send_some(int fd, std::string& buf) {
  ssize_t n = ::write(fd, buf.data(), buf.size());
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  buf.erase(0, size_t(n));
  return true;
}

// The relay proper: ciphertext on sock_in/sock_out, plaintext on `plain`.
int relay(reactor::tls::Session& tls, int sock_in, int sock_out, int plain, int timeout,
          bool skip_plain) {
  std::string to_client, to_plain;
  bool client_eof = false, plain_eof = false, plain_shut = false;
  bool seen_record = !skip_plain;
  time_t started = std::time(nullptr), active = started;
  char buf[16384];
  for (;;) {
    std::string c = tls.take_cipher();
    to_client += c;
    // Done: qmail-pop3d (or qmail-popup) closed and everything reached the client.
    if (plain_eof && to_client.empty()) return 0;
    if (client_eof && !plain_shut && to_plain.empty()) {
      ::shutdown(plain, SHUT_WR);  // qmail-pop3d sees EOF and ends as qmail's does
      plain_shut = true;
    }
    if (client_eof && plain_eof) return 0;

    time_t now = std::time(nullptr);
    time_t deadline = tls.handshake_done() ? active + timeout
                                           : started + std::min(timeout, kHandshakeTimeout);
    if (now >= deadline) {
      log_line(tls.handshake_done() ? "timeout" : "handshake timed out");
      return 1;
    }
    struct pollfd p[3];
    int n = 0, i_in = -1, i_out = -1, i_plain = -1;
    if (!client_eof && to_plain.size() < kHighWater) { p[n] = {sock_in, POLLIN, 0}; i_in = n++; }
    if (!to_client.empty()) { p[n] = {sock_out, POLLOUT, 0}; i_out = n++; }
    short pe = 0;
    if (!plain_eof && tls.handshake_done() && to_client.size() < kHighWater) pe |= POLLIN;
    if (!to_plain.empty()) pe |= POLLOUT;
    if (pe) { p[n] = {plain, pe, 0}; i_plain = n++; }
    if (n == 0) return 0;
    int r = ::poll(p, nfds_t(n), int(deadline - now) * 1000);
    if (r < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (r == 0) continue;  // the deadline check above reports it

    if (i_in >= 0 && (p[i_in].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t got = ::read(sock_in, buf, sizeof buf);
      if (got < 0 && errno != EINTR && errno != EAGAIN) got = 0;
      if (got == 0) {
        client_eof = true;
        if (!tls.handshake_done()) {
          log_line("handshake failed: client closed the connection");
          return 1;
        }
      } else if (got > 0) {
        active = std::time(nullptr);
        std::string_view in(buf, size_t(got));
        if (!seen_record) {
          // Plaintext the client pipelined after STLS is never executed: it
          // is dropped up to the first TLS record (0x16, a handshake record).
          size_t at = in.find('\x16');
          in = at == std::string_view::npos ? std::string_view() : in.substr(at);
          if (!in.empty()) seen_record = true;
        }
        if (!in.empty()) {
          tls.put_cipher(in);
          std::string plain_in;
          if (!tls.read(plain_in)) {
            to_client += tls.take_cipher();  // the alert, if any
            if (!to_client.empty()) send_some(sock_out, to_client);
            log_line(std::string(tls.handshake_done() ? "" : "handshake failed: ") + tls.error());
            return 1;
          }
          to_plain += plain_in;
          if (tls.peer_closed()) client_eof = true;
        }
      }
    }
    if (i_out >= 0 && (p[i_out].revents & (POLLOUT | POLLHUP | POLLERR))) {
      if (!send_some(sock_out, to_client)) return 1;  // the client is gone
    }
    if (i_plain >= 0 && (p[i_plain].revents & POLLOUT) && !to_plain.empty()) {
      if (!send_some(plain, to_plain)) {
        to_plain.clear();
        plain_eof = true;
      }
    }
    if (i_plain >= 0 && (p[i_plain].revents & (POLLIN | POLLHUP | POLLERR)) && !plain_eof) {
      ssize_t got = ::read(plain, buf, sizeof buf);
      if (got < 0 && errno != EINTR && errno != EAGAIN) got = 0;
      if (got == 0) {
        plain_eof = true;
        to_plain.clear();
        tls.shutdown();
      } else if (got > 0) {
        active = std::time(nullptr);
        if (!tls.write(std::string_view(buf, size_t(got)))) {
          log_line(tls.error());
          return 1;
        }
      }
    }
  }
}

}  // namespace

PopupTlsConfig load_tls_config() {
  PopupTlsConfig cfg;
  cfg.implicit = std::getenv("POP3S") != nullptr;
  // As qmail-smtpd's AUTH: no password in plaintext once TLS is on offer,
  // unless a rule says FORCETLS=0.
  const char* force = std::getenv("FORCETLS");
  cfg.force = !(force && std::string_view(force) == "0");
  auto tls = reactor::tls::server_setup(queue::home_path(kServerCert), queue::home_path("control/tlsserverciphers"),
                                        cfg.implicit);
  if (!tls)
    log_line("control/tlsserverciphers: " + tls.error().text);
  else if (!tls->warning.empty())
    log_line("control/servercert.pem: " + tls->warning);
  else if (!tls->ctx && cfg.implicit)
    log_line("no control/servercert.pem for POP3S");
  else
    cfg.ctx = tls->ctx;
  return cfg;
}

bool start_tls_relay(const std::shared_ptr<reactor::tls::Context>& ctx, int timeout,
                     bool skip_plain) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    log_line("unable to create socketpair");
    return false;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(sv[0]);
    ::close(sv[1]);
    log_line("unable to fork");
    return false;
  }
  if (pid == 0) {
    ::close(sv[0]);
    // The relay never runs as root: qmaild/nofiles (the owner in a
    // single-user tree), before one byte of TLS is parsed.
    if (auto st = queue::drop_to(queue::Account::qmaild, queue::Group::nofiles); !st) {
      log_line("unable to drop privileges: " + st.error().text);
      ::_exit(111);
    }
    ::signal(SIGPIPE, SIG_IGN);
    for (int fd : {0, 1, sv[1]}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    int rc;
    {
      reactor::tls::Session tls(ctx, reactor::tls::Session::Role::server);
      rc = relay(tls, 0, 1, sv[1], timeout, skip_plain);
    }
    ::_exit(rc);
  }
  ::close(sv[1]);
  // From here on this process (and checkpassword, qmail-pop3d) speaks
  // plaintext on the socketpair only; the client socket is the relay's.
  if (::dup2(sv[0], 0) < 0 || ::dup2(sv[0], 1) < 0) {
    ::close(sv[0]);
    return false;
  }
  ::close(sv[0]);
  return true;
}

}  // namespace pop3
