// The QMTP server state machine (see qmtpd.h). Texts are qmail-qmtpd's.
#include "smtp/qmtpd.h"

#include "queue/date822.h"
#include "smtp/netstring.h"

namespace smtp {

// Replies are rendered from the pending results a bounded piece at a time,
// so a message with millions of refused recipients costs one byte each in
// memory (results_), never their reply texts; the driver writes each piece
// before it asks for the next, and before it reads more input.
std::string Qmtpd::take_output() {
  std::string o;
  o.swap(out_);
  while (o.size() < kOutputPiece && !replies_.empty()) {
    Pending& p = replies_.front();
    while (o.size() < kOutputPiece && p.next < p.results.size()) o += reply_for(p, p.results[p.next++]);
    if (p.next == p.results.size()) replies_.pop_front();
  }
  return o;
}

bool Qmtpd::output_pending() const { return !out_.empty() || !replies_.empty(); }

std::string Qmtpd::reply_for(const Pending& p, char r) {
  switch (r) {
    case 0: return netstring(p.result);
    case 'D': return netstring("Dsorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)");
    case 'Z': return netstring("Zsorry, too many recipients (#4.5.3)");
    case 'C': return netstring("Dsorry, control characters are not allowed in addresses (#5.1.3)");
    default: return netstring("Dsorry, I can't handle that recipient (#5.1.3)");
  }
}

// qmail-qmtpd exits 100 on a protocol error and 111 on resource trouble,
// without a reply either way.
void Qmtpd::fail(int code) {
  if (in_message_) policy_.queue_abort();
  in_message_ = false;
  closed_ = true;
  exit_ = code;
}

void Qmtpd::eof() {
  // Between messages the end of input is a normal end; inside one it is not.
  if (s_ != S::msg_len || !pre_.empty()) fail(100);
  closed_ = true;
}

void Qmtpd::timeout() {
  if (!closed_) fail(111);
}

// Accumulates one "len:" prefix; true once complete (sets `out`).
bool Qmtpd::length(char ch, size_t cap, size_t& out) {
  pre_ += ch;
  size_t consumed = 0;
  switch (parse_length(pre_, cap, out, consumed)) {
    case LengthState::kNeedMore: return false;
    case LengthState::kBad: fail(pre_.size() > 1 && ch >= '0' && ch <= '9' ? 111 : 100); return false;
    case LengthState::kOk: pre_.clear(); return true;
  }
  return false;
}

void Qmtpd::start_message() {
  auto qp = policy_.queue_open();
  if (!qp) return fail(111);
  in_message_ = true;
  qp_ = *qp;
  too_big_ = pending_cr_ = false;
  put_count_ = 0;
  from_.clear();
  from_ok_ = true;
  from_ctl_ = false;
  results_.clear();
  rcpts_.clear();
  policy_.queue_put(received_line("QMTP", cfg_.peer, std::nullopt, queue::date822_utc(policy_.now())));
}

void Qmtpd::put(char ch) {
  if (too_big_) return;
  if (cfg_.databytes && ++put_count_ > cfg_.databytes) {
    too_big_ = true;
    return;
  }
  chunk_ += ch;
}

void Qmtpd::feed(std::string_view in) {
  chunk_.clear();
  size_t i = 0;
  while (i < in.size() && !closed_) {
    char ch = in[i];
    switch (s_) {
      case S::msg_len:
        ++i;
        if (!length(ch, cfg_.max_message, len_)) break;
        if (len_ == 0) return fail(100);
        start_message();
        s_ = S::mode;
        break;
      case S::mode:  // first byte: LF (plain) or CR (CR LF line ends)
        ++i;
        --len_;
        if (ch == '\n') dos_ = false;
        else if (ch == '\r') dos_ = true;
        else return fail(100);
        if (!dos_ && cfg_.databytes && len_ > cfg_.databytes) too_big_ = true;
        s_ = len_ ? S::body : S::comma1;
        break;
      case S::body: {
        size_t n = std::min(len_, in.size() - i);
        std::string_view part = in.substr(i, n);
        i += n;
        len_ -= n;
        if (!dos_) {
          if (!too_big_) chunk_.append(part);
        } else {
          for (char c : part) {
            if (pending_cr_ && c != '\n') put('\r');
            pending_cr_ = (c == '\r');
            if (!pending_cr_) put(c);
          }
          if (len_ == 0 && pending_cr_) put('\r');
        }
        if (chunk_.size() >= 65536 || len_ == 0) {
          if (!chunk_.empty()) policy_.queue_put(chunk_);
          chunk_.clear();
        }
        if (len_ == 0) s_ = S::comma1;
        break;
      }
      case S::comma1:
      case S::comma2:
      case S::rcpt_comma:
      case S::final_comma:
        ++i;
        if (ch != ',') return fail(100);
        if (s_ == S::comma1) s_ = S::from_len;
        else if (s_ == S::comma2) s_ = S::list_len;
        else if (s_ == S::rcpt_comma) {
          end_rcpt();
          s_ = biglen_ ? S::rcpt_len : S::final_comma;
        } else {
          finish();
          s_ = S::msg_len;
        }
        break;
      case S::from_len:
        ++i;
        if (!length(ch, cfg_.max_message, len_)) break;
        if (len_ >= 1000) from_ok_ = false;
        s_ = len_ ? S::from : S::comma2;
        break;
      case S::from:
        ++i;
        --len_;
        if (ch == '\0') from_ok_ = false;
        // [WEAKNESS] qmail-qmtpd takes CR and LF into the envelope, where
        // qmail-remote would write them into MAIL FROM: refused here.
        else if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) from_ctl_ = true;
        if (from_ok_) from_ += ch;
        if (len_ == 0) s_ = S::comma2;
        break;
      case S::list_len:
        ++i;
        if (!length(ch, cfg_.max_rcpt_list, biglen_)) break;
        s_ = biglen_ ? S::rcpt_len : S::final_comma;
        break;
      case S::rcpt_len:
        ++i;
        if (biglen_ == 0) return fail(100);
        --biglen_;
        if (!length(ch, cfg_.max_rcpt_list, len_)) break;
        if (len_ >= biglen_) return fail(100);
        biglen_ -= len_ + 1;  // the data and its comma
        rcpt_.clear();
        rcpt_fail_ = 0;
        if (len_ + (cfg_.relayclient ? cfg_.relayclient->size() : 0) >= 1000) rcpt_fail_ = 'L';
        s_ = len_ ? S::rcpt : S::rcpt_comma;
        break;
      case S::rcpt:
        ++i;
        --len_;
        if (ch == '\0' && !rcpt_fail_) rcpt_fail_ = 'N';
        if ((static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) && !rcpt_fail_) rcpt_fail_ = 'C';
        if (!rcpt_fail_) rcpt_ += ch;
        if (len_ == 0) s_ = S::rcpt_comma;
        break;
    }
  }
  if (!closed_ && !chunk_.empty()) policy_.queue_put(chunk_);
  chunk_.clear();
}

void Qmtpd::end_rcpt() {
  char r = rcpt_fail_;
  if (!r) {
    if (cfg_.relayclient) rcpt_ += *cfg_.relayclient;
    else if (!policy_.rcpt_allowed(rcpt_)) r = 'D';
  }
  if (!r && rcpts_.size() >= cfg_.max_rcpts) r = 'Z';
  if (!r) rcpts_.push_back(rcpt_);
  results_.push_back(r);
}

void Qmtpd::finish() {
  std::string result;
  in_message_ = false;
  if (rcpts_.empty() || !from_ok_ || from_ctl_ || too_big_) {
    policy_.queue_abort();
    result = "Zqq write error or disk full (#4.3.0)";
  } else {
    reactor::Status st = policy_.queue_finish(from_, rcpts_);
    if (st) result = "Kok " + std::to_string(static_cast<unsigned long>(policy_.now())) + " qp " + std::to_string(qp_);
    else result = (st.error().temporary ? "Z" : "D") + st.error().text;
  }
  if (!from_ok_) result = "Dunacceptable sender (#5.1.7)";
  else if (from_ctl_) result = "Dsorry, control characters are not allowed in addresses (#5.1.7)";
  if (too_big_) result = "Dsorry, that message size exceeds my databytes limit (#5.3.4)";
  rcpts_.clear();
  if (results_.empty()) return;
  replies_.push_back(Pending{std::move(result), std::move(results_), 0});
  results_.clear();
}

}  // namespace smtp
