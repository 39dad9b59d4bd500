#pragma once
// qmail-qmtpd(8) as a pure state machine: QMTP (netstrings: message, sender,
// recipient list) in, one reply netstring per recipient out, the message
// streamed to the queue through the same SmtpdPolicy as qmail-smtpd.

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/smtpd.h"
#include "smtp/smtpd_session.h"
#include "smtp/smtpd_util.h"

namespace smtp {

/// Settings of qmail-qmtpd (control/databytes, $DATABYTES, $RELAYCLIENT, peer).
struct QmtpdConfig {
  unsigned long databytes = 0;
  std::optional<std::string> relayclient;
  Peer peer;
  size_t max_rcpts = 1000;              ///< accepted recipients per message
  size_t max_rcpt_list = 10u << 20;     ///< bytes of the recipient netstring
  size_t max_message = 200000000;       ///< qmail-qmtpd's length ceiling
};

/// The QMTP dialogue of one connection (several messages may follow each other).
class Qmtpd : public Session {
 public:
  Qmtpd(QmtpdConfig cfg, SmtpdPolicy& policy) : cfg_(std::move(cfg)), policy_(policy) {}
  void feed(std::string_view bytes) override;
  void eof() override;
  void timeout() override;
  /// Replies so far, at most about kOutputPiece bytes per call: call again
  /// while output_pending().
  std::string take_output() override;
  bool output_pending() const override;
  bool closed() const override { return closed_; }
  /// 0 after a clean end between messages, 100 on a protocol error, 111 on trouble.
  int exit_code() const override { return exit_; }

 private:
  enum class S { msg_len, mode, body, comma1, from_len, from, comma2, list_len, rcpt_len, rcpt, rcpt_comma, final_comma };
  void fail(int code);
  bool length(char ch, size_t cap, size_t& out);
  void start_message();
  void put(char ch);
  void end_rcpt();
  void finish();
  struct Pending {          ///< the replies of one finished message, not yet rendered
    std::string result;     ///< the reply of every accepted recipient
    std::vector<char> results;
    size_t next = 0;
  };
  static std::string reply_for(const Pending& p, char r);
  static constexpr size_t kOutputPiece = 65536;

  QmtpdConfig cfg_;
  SmtpdPolicy& policy_;
  S s_ = S::msg_len;
  bool closed_ = false, in_message_ = false;
  int exit_ = 0;
  std::string out_, chunk_, pre_;
  size_t len_ = 0, biglen_ = 0;
  bool dos_ = false, pending_cr_ = false, too_big_ = false;
  unsigned long long put_count_ = 0;
  unsigned long qp_ = 0;
  std::string from_;
  bool from_ok_ = true, from_ctl_ = false;
  std::string rcpt_;
  char rcpt_fail_ = 0;
  std::vector<char> results_;  ///< per recipient: 0 accepted, 'D' rcpthosts, 'L'/'N' unusable, 'C' control character, 'Z' too many
  std::deque<Pending> replies_;
  std::vector<std::string> rcpts_;
};

}  // namespace smtp
