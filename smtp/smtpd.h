#pragma once
// qmail-smtpd(8) as a pure state machine: bytes from the client go in,
// replies come out; the queue, rcpthosts, the host's own addresses and the
// clock are reached through an injected SmtpdPolicy. No I/O of its own.

#include <ctime>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/result.h"
#include "smtp/smtpd_data.h"
#include "smtp/smtpd_session.h"
#include "smtp/smtpd_util.h"

namespace smtp {

/// SMTP AUTH as the smtp-auth patches set it up: a checkpassword program on
/// the command line, $SMTPAUTH, $FORCETLS.
struct SmtpdAuth {
  bool configured = false;    ///< a checkpassword is named on the command line
  bool offered = false;       ///< a checkpassword is configured and $SMTPAUTH is not "-" or "0"
  bool required = false;      ///< $SMTPAUTH "!...": MAIL only after AUTH (submission)
  bool login_plain = true;    ///< LOGIN and PLAIN ($SMTPAUTH "cram": CRAM-MD5 only)
  bool cram = false;          ///< CRAM-MD5 ($SMTPAUTH "cram" or "+cram")
  bool force_tls = true;      ///< $FORCETLS not 0: AUTH only over TLS
  std::string cram_host;      ///< the host name in the CRAM-MD5 challenge
  double fail_delay = 5;      ///< seconds each failed AUTH waits before its reply ($AUTHFAILDELAY)
  unsigned max_failures = 3;  ///< failed AUTHs before 421 and the end of the session
};

/// Reads $SMTPAUTH, $FORCETLS and $AUTHFAILDELAY into `a` (`have_checkpassword`:
/// one was named on the command line).
void parse_auth_env(SmtpdAuth& a, bool have_checkpassword, const char* smtpauth, const char* forcetls,
                    const char* faildelay);

/// Everything qmail-smtpd reads from control/ and the environment at startup.
struct SmtpdConfig {
  std::string greeting;                   ///< smtpgreeting, else me
  std::optional<std::string> localiphost; ///< localiphost, else me; none: no rewriting
  std::set<std::string> badmailfrom;      ///< lower-cased entries
  unsigned long databytes = 0;            ///< 0: unlimited
  std::optional<std::string> relayclient; ///< $RELAYCLIENT
  Peer peer;                              ///< $TCPREMOTEIP and friends
  size_t max_line = 1000;                 ///< longest command line accepted (octets before CR LF)
  size_t max_skip = 65536;                ///< an over-long line this long without LF ends the session
  size_t max_rcpts = 1000;                ///< recipients per message (452 after)
  unsigned timeout = 1200;                ///< timeoutsmtpd (used by the driver)
  bool starttls = false;                  ///< offer STARTTLS (a certificate, and $DISABLETLS not 1)
  SmtpdAuth auth;
};

/// What a checkpassword said.
enum class AuthVerdict { ok, rejected, temporary };

/// The world as the SMTP machine sees it.
class SmtpdPolicy {
 public:
  virtual ~SmtpdPolicy() = default;
  /// rcpthosts / morercpthosts decision for a recipient address.
  virtual bool rcpt_allowed(std::string_view addr) = 0;
  /// True if dotted-quad `ip` is one of this host's addresses (qmail's ipme).
  virtual bool is_my_ip(std::string_view ip) = 0;
  /// Starts qmail-queue; returns its pid (the `qp` number).
  virtual reactor::Result<unsigned long> queue_open() = 0;
  /// Message bytes for the open queue.
  virtual void queue_put(std::string_view bytes) = 0;
  /// Envelope and close; Error{temporary, text} on failure.
  virtual reactor::Status queue_finish(const std::string& from, const std::vector<std::string>& to) = 0;
  /// Abandons the open queue (nothing is queued).
  virtual void queue_abort() = 0;
  /// Seconds since the epoch.
  virtual std::time_t now() = 0;
  /// Runs the checkpassword with `user NUL secret NUL challenge NUL` on fd 3.
  virtual AuthVerdict auth_check(const std::string& /*user*/, const std::string& /*secret*/,
                                 const std::string& /*challenge*/) {
    return AuthVerdict::temporary;
  }
  /// AUTH succeeded: what qmail-queue should see ($SMTPAUTHUSER and friends).
  virtual void authenticated(const std::string& /*user*/, std::string_view /*method*/) {}
  /// A line for the log (fd 2); `text` holds no control characters.
  virtual void log(std::string_view /*text*/) {}
  /// The process id (for the CRAM-MD5 challenge).
  virtual unsigned long pid() { return 0; }
};

/// The SMTP dialogue of one connection.
class Smtpd : public Session {
 public:
  /// Command (reading commands), Data (inside DATA), Closed (QUIT or fatal).
  enum class State { command, data, closed };

  Smtpd(SmtpdConfig cfg, SmtpdPolicy& policy);
  /// Queues the `220` greeting.
  void start();
  /// Processes client bytes; replies accumulate in output().
  void feed(std::string_view bytes) override;
  /// The client closed its side: aborts an open message, closes.
  void eof() override;
  /// The read timeout passed: `451 timeout (#4.4.2)`, closes.
  void timeout() override;
  /// Takes the replies produced so far.
  std::string take_output() override;
  State state() const { return state_; }
  bool closed() const override { return state_ == State::closed; }
  /// Exit status for the program: 0 after QUIT, 1 otherwise.
  int exit_code() const override { return quit_ ? 0 : 1; }
  bool wants_tls() const override { return tls_wanted_; }
  void tls_started(std::string_view cipher) override;
  /// True once the session runs over TLS.
  bool tls() const { return tls_; }
  /// True once AUTH succeeded.
  bool authenticated() const { return authed_; }
  double take_delay() override {
    double d = delay_;
    delay_ = 0;
    return d;
  }

 private:
  void line(std::string_view l);
  void out(std::string_view s) { out_.append(s); }
  void close();
  void data_bytes(std::string_view& in);
  void data_end(DataDecoder::Status st);
  bool address(std::string_view arg, std::string& addr, std::string_view* rest);
  void cmd_helo(std::string_view arg);
  void cmd_ehlo(std::string_view arg);
  void cmd_mail(std::string_view arg);
  void cmd_rcpt(std::string_view arg);
  void cmd_data(std::string_view arg);
  void cmd_rset(std::string_view arg);
  void cmd_quit(std::string_view arg);
  void cmd_help(std::string_view arg);
  void cmd_noop(std::string_view arg);
  void cmd_vrfy(std::string_view arg);
  void cmd_starttls(std::string_view arg);
  void cmd_auth(std::string_view arg);
  void auth_line(std::string_view l);
  void auth_try(std::string_view method, std::string user, std::string secret, const std::string& challenge);
  void auth_reset();
  bool auth_offered_now() const;

  SmtpdConfig cfg_;
  SmtpdPolicy& policy_;
  State state_ = State::command;
  std::string out_;
  std::string line_;         ///< partial command line (bounded by max_line)
  bool skipping_ = false;    ///< discarding the rest of an over-long line
  size_t skipped_ = 0;       ///< bytes of it so far
  std::optional<std::string> helo_;  ///< HELO text when it differs from the remote host
  bool seen_mail_ = false;
  bool barf_ = false;        ///< sender is in badmailfrom
  std::string mailfrom_;
  std::vector<std::string> rcpts_;
  bool quit_ = false;
  bool tls_wanted_ = false;  ///< STARTTLS accepted, handshake not yet done
  bool tls_ = false;
  std::string protocol_ = "SMTP";  ///< the Received line's "with"
  std::string cipher_;       ///< after the handshake
  // AUTH
  enum class AuthStep { none, login_user, login_pass, plain, cram };
  AuthStep auth_step_ = AuthStep::none;  ///< the next line answers a 334
  std::string auth_user_;    ///< LOGIN: the user given so far
  std::string auth_chal_;    ///< CRAM-MD5: the challenge sent
  bool authed_ = false;
  std::optional<std::string> relayclient_before_auth_, remoteinfo_before_auth_;
  unsigned auth_failures_ = 0;
  double delay_ = 0;
  // DATA
  DataDecoder decoder_;
  unsigned long qp_ = 0;
  unsigned long long data_count_ = 0;
  bool too_big_ = false;
  std::string chunk_;
};

/// "command", "data", "closed".
const char* to_string(Smtpd::State s);

}  // namespace smtp
