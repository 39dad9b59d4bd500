#pragma once
// The SMTP client conversation of qmail-remote(8) as a pure state machine:
// server bytes in, command bytes and qmail-remote's report bytes out
// (remote.md 2 and 3). EHLO with HELO fallback, MAIL/RCPT pipelined when
// the server offers PIPELINING, DATA through smtp::DataEncoder; STARTTLS
// (the qmail-tls patch's client policy), AUTH PLAIN/LOGIN to a smarthost
// and SIZE (RFC 1870). The TLS layer itself belongs to the driver: the
// machine asks for it with wants_tls() and hears back via tls_started().

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/wire.h"

namespace smtp {

/// What one delivery attempt sends.
struct Envelope {
  std::string helohost;
  std::string sender;                    ///< as given to qmail-remote (quoted here)
  std::vector<std::string> recipients;
  int64_t size = -1;                     ///< message bytes if known (SIZE), else -1
};

/// Whether a session tries STARTTLS (remote.cc decides from control/tlshosts).
enum class TlsPolicy {
  off,            ///< never (notlshosts/<host>, or exhaustivelist without a .pem)
  opportunistic,  ///< when offered; a refusal continues in plaintext
  required,       ///< tlshosts/<host>.pem: no TLS means deferral
};

/// Per-destination choices for one session.
struct ClientPolicy {
  TlsPolicy tls = TlsPolicy::off;
  std::string host;           ///< name connected to (MX or relay) for texts; empty: the IP
  std::string tls_file;       ///< "tlshosts/<host>.pem" for the required policy's texts
  bool auth = false;          ///< smtproutes credentials: AUTH before MAIL
  std::string user, password;
};

/// Quotes the local part of an address as qmail's addrmangle does ("a b"@c).
std::string quote_address(std::string_view addr);

/// The client side of one SMTP session with one server at `partner` (IP text).
class Client {
 public:
  enum class State {
    greeting, ehlo, helo, starttls, tls, auth_user, auth_pass, auth, mail, rcpt, data, body, dot, done
  };

  Client(Envelope env, std::string partner, ClientPolicy policy = {});
  /// Server bytes.
  void feed(std::string_view bytes);
  /// The connection was lost or a read/write timed out.
  void connection_lost();
  /// True while the message body is wanted (after 354).
  bool wants_body() const { return state_ == State::body; }
  /// A piece of the stored message (LF line ends); call only while wants_body().
  void body(std::string_view chunk);
  /// The stored message ended; sends the final dot (or fails on a partial line).
  void body_end();
  /// Input could not be read: ends with qmail's temporary read failure.
  void body_error();

  /// Bytes to send to the server (taken, i.e. cleared).
  std::string take_output();
  /// Bytes queued for the server but not yet taken.
  size_t output_size() const { return out_.size(); }
  /// qmail-remote's report bytes so far (r/h/s reports, then K/Z/D), taken.
  std::string take_reports();
  bool done() const { return state_ == State::done; }
  /// After done(): true if the connection should be closed without more I/O.
  State state() const { return state_; }
  /// True once the server advertised PIPELINING.
  bool pipelining() const { return pipelining_; }

  /// True after the server's 220 to STARTTLS: the driver now starts TLS on
  /// the connection (nothing more is read in plaintext).
  bool wants_tls() const { return state_ == State::tls; }
  /// The handshake finished (and, under the required policy, the server
  /// verified): EHLO again inside TLS. For implicit TLS: before the greeting.
  void tls_started();
  /// The handshake failed: temporary failure of this host, never plaintext.
  void tls_failed(std::string_view reason);
  /// The server's certificate or name did not verify against tlshosts/<host>.pem.
  void tls_unverified(std::string_view reason);
  /// True once TLS is up (STARTTLS done or implicit).
  bool tls_active() const { return tls_active_; }

 private:
  void on_reply(const Reply& r);
  void enter(State s);
  void send(std::string_view line);
  void quit(char letter, std::string_view prepend, std::string_view append, const Reply* r);
  void fail(const std::string& report, const Reply* r, bool send_quit);
  void hello_done(bool esmtp);
  void after_tls_decision();
  void envelope();
  void extensions(const Reply& r);
  const std::string& host_name() const { return policy_.host.empty() ? partner_ : policy_.host; }
  void recipient_report(const Reply& r);
  void after_recipients();
  void skip_unsafe();
  std::string smtp_text(const Reply& r) const;

  Envelope env_;
  std::string partner_;
  ClientPolicy policy_;
  State state_ = State::greeting;
  ReplyParser parser_;
  DataEncoder encoder_;
  std::string out_;
  std::string reports_;
  size_t next_rcpt_ = 0;  ///< index of the recipient whose reply comes next
  bool accepted_any_ = false;
  bool pipelining_ = false;
  bool starttls_offered_ = false;
  bool auth_plain_ = false, auth_login_ = false;
  bool size_offered_ = false;
  uint64_t size_limit_ = 0;  ///< SIZE n from EHLO (0: none announced)
  bool tls_active_ = false;
  bool critical_ = false;   ///< the final dot went out: a lost connection may duplicate
  char last_byte_ = '\n';   ///< last byte of the stored message (partial-line check)
};

/// "greeting", "rcpt", ... for traces.
const char* to_string(Client::State s);

}  // namespace smtp
