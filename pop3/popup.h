#pragma once
// The authorization state of qmail-popup(8) as a pure machine: the APOP
// greeting, USER/PASS/APOP/QUIT/NOOP with qmail's replies, and the one
// authentication request handed to a checkpassword program.

#include <cstdint>
#include <string>
#include <string_view>

namespace pop3 {

/// What the driver does after one command line.
struct PopupAction {
  std::string reply;          ///< bytes to send (empty when authenticating)
  bool authenticate = false;  ///< run checkpassword with user/pass, then exit
  std::string user, pass;
  bool quit = false;          ///< close the connection after sending reply
  bool start_tls = false;     ///< STLS accepted: send reply, then the handshake
};

/// What TLS can do on this connection (RFC 2595 STLS, RFC 8314 POP3S).
struct PopupTls {
  bool available = false;  ///< a certificate is loaded (control/servercert.pem)
  bool active = false;     ///< TLS already runs (POP3S, or after STLS)
  bool force = false;      ///< $FORCETLS not 0: no USER/PASS/APOP before TLS
};

/// The authorization phase of one POP3 connection.
class Popup {
 public:
  /// `hostname` as given on the command line; pid and time make the APOP stamp.
  Popup(std::string hostname, long pid, int64_t now, bool capa = true, PopupTls tls = {});
  /// "<pid.time@host>": the APOP challenge, also passed to checkpassword.
  const std::string& timestamp() const { return stamp_; }
  /// "+OK <pid.time@host>\r\n".
  std::string greeting() const { return "+OK " + stamp_ + "\r\n"; }
  /// Handles one command line (without LF).
  PopupAction command(std::string_view line);
  /// The handshake after STLS succeeded: the authorization state starts
  /// afresh (a USER given before is forgotten); the APOP stamp stays.
  void tls_started();
  /// False while USER/PASS/APOP are refused for want of TLS.
  bool login_allowed() const { return !(tls_.force && tls_.available && !tls_.active); }
  /// The CAPA reply for the current state.
  std::string capabilities() const;

 private:
  std::string stamp_;
  std::string user_;
  bool seen_user_ = false;
  bool capa_;
  PopupTls tls_;
};

/// The fd-3 block for checkpassword: "user\0pass\0timestamp\0".
std::string checkpassword_input(std::string_view user, std::string_view pass,
                                std::string_view timestamp);

}  // namespace pop3
