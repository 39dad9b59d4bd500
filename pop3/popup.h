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
};

/// The authorization phase of one POP3 connection.
class Popup {
 public:
  /// `hostname` as given on the command line; pid and time make the APOP stamp.
  Popup(std::string hostname, long pid, int64_t now, bool capa = true);
  /// "<pid.time@host>": the APOP challenge, also passed to checkpassword.
  const std::string& timestamp() const { return stamp_; }
  /// "+OK <pid.time@host>\r\n".
  std::string greeting() const { return "+OK " + stamp_ + "\r\n"; }
  /// Handles one command line (without LF).
  PopupAction command(std::string_view line);

 private:
  std::string stamp_;
  std::string user_;
  bool seen_user_ = false;
  bool capa_;
};

/// The fd-3 block for checkpassword: "user\0pass\0timestamp\0".
std::string checkpassword_input(std::string_view user, std::string_view pass,
                                std::string_view timestamp);

}  // namespace pop3
