// qmail-inject's message and envelope processing (see inject.h).
#include "queue/inject.h"

#include <algorithm>
#include <cstdio>

#include "queue/date822.h"
#include "reactor/control.h"

namespace queue {

using rfc822::Tok;
using rfc822::Token;
using rfc822::Tokens;

namespace {

constexpr size_t kLineLen = 80;

bool is(Field k, std::initializer_list<Field> set) { return std::find(set.begin(), set.end(), k) != set.end(); }

reactor::Error parse_error(std::string_view line) {
  return reactor::perm_error("unable to parse this line:\n" + std::string(line));
}

// An address of a header field for the envelope: quoting removed, and the
// field's folding (a line break inside a quoted string or a literal, always
// followed by a blank) undone, as RFC 5322 unfolds it.
std::string header_address(const Tokens& addr) {
  std::string a = rfc822::unquote(addr);
  std::string out;
  out.reserve(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == '\r' && i + 1 < a.size() && a[i + 1] == '\n') continue;
    if (a[i] != '\n') out += a[i];
  }
  return out;
}

// [WEAKNESS] qmail-inject handed qmail-queue whatever an address held; a CR,
// LF or NUL left in one (a lone CR in a quoted string, an argument holding a
// line break) is refused here, with the address shown safely.
std::optional<reactor::Error> bad_envelope_address(std::string_view a) {
  if (a.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos) return std::nullopt;
  std::string shown;
  for (unsigned char c : a) {
    if (c == '\r') shown += "\\r";
    else if (c == '\n') shown += "\\n";
    else if (c == '\0') shown += "\\0";
    else if (c < 0x20 || c == 0x7f) shown += '?';
    else shown += static_cast<char>(c);
  }
  return reactor::perm_error("address holds a line break or NUL: " + shown);
}

// Message-ID timestamp: YYYYMMDDhhmmss in UTC.
std::string msgid_stamp(std::time_t t) {
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace

const std::string* InjectEnv::get(std::string_view name) const {
  auto it = vars.find(name);
  return it == vars.end() ? nullptr : &it->second;
}

Injector::Injector(InjectEnv env, const InjectControls& controls, std::time_t now, long pid)
    : env_(std::move(env)), controls_(controls), now_(now), pid_(pid) {
  if (const std::string* q = env_.get("QMAILINJECT")) {
    for (char c : *q) {
      switch (c) {
        case 'c': name_comment_ = true; break;
        case 's': delete_sender_ = true; break;
        case 'f': delete_from_ = true; break;
        case 'i': delete_msgid_ = true; break;
        case 'r': hack_recip_ = true; break;
        case 'm': hack_mess_ = true; break;
        default: break;
      }
    }
  }
  // First set variable of a list.
  auto first = [&](std::initializer_list<const char*> names) -> std::optional<std::string> {
    for (const char* n : names)
      if (const std::string* v = env_.get(n)) return *v;
    return std::nullopt;
  };
  mailhost_ = first({"QMAILHOST", "MAILHOST"});
  mailrhost_ = first({"QMAILSHOST"});
  if (!mailrhost_) mailrhost_ = mailhost_;
  mailuser_ = first({"QMAILUSER", "MAILUSER", "USER", "LOGNAME"}).value_or("anonymous");
  mailruser_ = first({"QMAILSUSER"}).value_or(mailuser_);
  fullname_ = first({"QMAILNAME", "MAILNAME", "NAME"});

  // control/X, else control/me, else the literal word; the environment overrides.
  auto control = [&](const std::optional<std::string>& file, const char* word, const char* var) {
    if (const std::string* v = env_.get(var)) return *v;
    if (file) return *file;
    if (controls_.me) return *controls_.me;
    return std::string(word);
  };
  defaultdomain_ = control(controls_.defaultdomain, "defaultdomain", "QMAILDEFAULTDOMAIN");
  defaulthost_ = control(controls_.defaulthost, "defaulthost", "QMAILDEFAULTHOST");
  plusdomain_ = control(controls_.plusdomain, "plusdomain", "QMAILPLUSDOMAIN");
  idhost_ = control(controls_.idhost, "idhost", "QMAILIDHOST");
}

reactor::Status Injector::init() {
  complete_ = rfc822::Completion::make(defaulthost_, defaultdomain_, plusdomain_);
  if (!complete_) return parse_error(defaulthost_ + " / " + defaultdomain_ + " / " + plusdomain_);
  return {};
}

reactor::Status Injector::set_sender(std::string_view arg) {
  if (auto bad = bad_envelope_address(arg)) return *bad;
  std::string q = rfc822::quote2(arg);
  auto toks = rfc822::parse(q);
  if (!toks) return parse_error(q);
  complete_->complete(*toks);
  sender_ = rfc822::unquote(*toks);
  return {};
}

reactor::Status Injector::add_recipient(std::string_view arg) {
  arg_given_ = true;
  if (mode_ == RecipMode::header) return {};
  if (auto bad = bad_envelope_address(arg)) return *bad;
  auto toks = rfc822::parse(rfc822::quote2(arg));
  if (!toks) return reactor::perm_error("unable to parse address: " + std::string(arg));
  complete_->complete(*toks);
  args_.push_back(rfc822::unquote(*toks));
  return {};
}

RecipMode Injector::effective_mode() const {
  if (mode_ != RecipMode::deflt) return mode_;
  return arg_given_ ? RecipMode::args : RecipMode::header;
}

void Injector::set_return(const Tokens& addr) {
  if (sender_) return;  // -f or an earlier Return-Path wins
  sender_ = header_address(addr);
  if (hack_recip_) *sender_ += "-@[]";
}

reactor::Status Injector::rewrite_field(std::string& field, Field kind) {
  std::vector<std::string>* list1 = nullptr;
  std::vector<std::string>* list2 = nullptr;
  bool recipient_field = true;
  bool is_return = false;
  if (is(kind, {Field::to, Field::cc})) {
    list1 = &header_;
    list2 = &tocc_;
  } else if (is(kind, {Field::bcc, Field::apparently_to})) {
    list1 = &header_;
  } else if (is(kind, {Field::resent_to, Field::resent_cc, Field::resent_bcc})) {
    list1 = &header_resent_;
  } else if (kind == Field::return_path) {
    recipient_field = false;
    is_return = true;
  } else if (is(kind, {Field::sender, Field::from, Field::reply_to, Field::return_receipt_to, Field::errors_to,
                       Field::resent_sender, Field::resent_from, Field::resent_reply_to})) {
    recipient_field = false;
  } else {
    return {};
  }
  auto cb = [&](Tokens& addr) {
    complete_->complete(addr);
    if (is_return) set_return(addr);
    if (list1) list1->push_back(header_address(addr));
    if (list2) list2->push_back(header_address(addr));
  };
  std::optional<Tokens> out;
  if (auto toks = rfc822::parse(field)) out = rfc822::rewrite_addrlist(*toks, cb);
  if (!out) {
    // A broken recipient field is fatal only when header recipients are wanted
    // (qmail 1.03); with -a it is passed on untouched (notqmail).
    if (recipient_field && effective_mode() == RecipMode::args) return {};
    return parse_error(field);
  }
  field = rfc822::unparse(*out, kLineLen);
  return {};
}

reactor::Status Injector::do_field(std::string& field, bool& keep) {
  keep = false;
  Field kind = field_kind(field);
  if (delete_from_ && kind == Field::from) return {};
  if (delete_msgid_ && kind == Field::message_id) return {};
  if (delete_sender_ && kind == Field::return_path) return {};
  if (kind != Field::unknown) seen_[static_cast<size_t>(kind)] = true;
  else if (!field_valid(field)) return reactor::perm_error("invalid header field: " + field);
  if (auto st = rewrite_field(field, kind); !st) return st;
  // Bcc lines would disclose recipients; Content-Length is meaningless here.
  keep = !is(kind, {Field::bcc, Field::resent_bcc, Field::return_path, Field::content_length});
  return {};
}

reactor::Result<std::string> Injector::default_from() {
  Tokens t{{Tok::atom, "From"}, {Tok::colon, {}}};
  bool angle = fullname_ && !name_comment_;
  if (angle) {
    t.push_back({Tok::quote, *fullname_});
    t.push_back({Tok::left, {}});
  }
  t.push_back({rfc822::quote_needed(mailuser_) ? Tok::quote : Tok::atom, mailuser_});
  if (mailhost_) {
    t.push_back({Tok::at, {}});
    t.push_back({Tok::atom, *mailhost_});
  }
  if (angle) t.push_back({Tok::right, {}});
  if (fullname_ && name_comment_) t.push_back({Tok::comment, *fullname_});
  // Written out and read back, so the result is what a header line would give.
  std::string text = rfc822::unparse(t, kLineLen);
  std::optional<Tokens> out;
  if (auto p = rfc822::parse(text))
    out = rfc822::rewrite_addrlist(*p, [&](Tokens& a) { complete_->complete(a); });
  if (!out) return parse_error(text);
  return rfc822::unparse(*out, kLineLen);
}

reactor::Status Injector::default_return_path() {
  // The envelope sender from QMAILSUSER/QMAILSHOST (or the From: user and host),
  // with the per-message (m) and per-recipient (r) VERP decorations.
  std::string user = mailruser_;
  if (hack_mess_) user += "-" + std::to_string(static_cast<unsigned long>(now_)) + "." + std::to_string(pid_);
  if (hack_recip_) user += "-";
  Tokens t{{Tok::atom, "Return-Path"}, {Tok::colon, {}}, {Tok::quote, user}};
  if (mailrhost_) {
    t.push_back({Tok::at, {}});
    t.push_back({Tok::atom, *mailrhost_});
  }
  std::string text = rfc822::unparse(t, kLineLen);
  std::optional<Tokens> out;
  if (auto p = rfc822::parse(text))
    out = rfc822::rewrite_addrlist(*p, [&](Tokens& a) {
      complete_->complete(a);
      set_return(a);
    });
  if (!out) return parse_error(text);
  return {};
}

std::string Injector::mail_followup_to() const {
  if (!controls_.mft || seen_[static_cast<size_t>(Field::mail_followup_to)]) return {};
  std::vector<std::string> lists;
  for (const std::string& l : *controls_.mft) lists.push_back(reactor::lowercase(l));
  bool listed = std::any_of(tocc_.begin(), tocc_.end(), [&](const std::string& a) {
    return std::find(lists.begin(), lists.end(), reactor::lowercase(a)) != lists.end();
  });
  if (!listed) return {};
  // tocc_ holds each field's addresses right to left; qmail walks it backwards,
  // so one field reads in order while the fields themselves come last first.
  std::string out = "Mail-Followup-To: ";
  for (size_t i = tocc_.size(); i-- > 0;) {
    out += rfc822::quote2(tocc_[i]);
    if (i) out += ",\n  ";
  }
  return out + "\n";
}

reactor::Result<Injection> Injector::run(std::string_view input, bool print) {
  if (!complete_) {
    if (auto st = init(); !st) return st.error();
  }
  SplitMessage m = split_message(input);
  std::string kept;
  for (std::string& f : m.fields) {
    bool keep;
    if (auto st = do_field(f, keep); !st) return st.error();
    if (keep) kept += f;
  }
  auto seen = [&](Field k) { return seen_[static_cast<size_t>(k)]; };
  bool resent = seen(Field::resent_sender) || seen(Field::resent_from) || seen(Field::resent_reply_to) ||
                seen(Field::resent_to) || seen(Field::resent_cc) || seen(Field::resent_bcc) ||
                seen(Field::resent_date) || seen(Field::resent_message_id);
  if (!sender_) {
    if (auto st = default_return_path(); !st) return st.error();
  }
  Injection out;
  out.sender = *sender_;
  if (print) out.message = "Return-Path: <" + rfc822::quote2(*sender_) + ">\n";
  // Missing fields, in qmail-inject's order, ahead of the original ones.
  const char* prefix = resent ? "Resent-" : "";
  if (!seen(resent ? Field::resent_date : Field::date))
    out.message += prefix + std::string("Date: ") + date822_utc(now_) + "\n";
  if (!seen(resent ? Field::resent_message_id : Field::message_id))
    out.message += prefix + std::string("Message-ID: <") + msgid_stamp(now_) + "." + std::to_string(pid_) +
                   ".qmail@" + idhost_ + ">\n";
  if (!seen(resent ? Field::resent_from : Field::from)) {
    auto from = default_from();
    if (!from) return from.error();
    out.message += prefix + *from;
  }
  if (resent) {
    if (!seen(Field::resent_to) && !seen(Field::resent_cc)) out.message += "Resent-Cc: recipient list not shown: ;\n";
  } else {
    if (!seen(Field::to) && !seen(Field::cc)) out.message += "Cc: recipient list not shown: ;\n";
    out.message += mail_followup_to();
  }
  out.message += kept;
  out.message += m.body;
  out.recipients = args_;
  if (effective_mode() != RecipMode::args) {
    const auto& h = resent ? header_resent_ : header_;
    out.recipients.insert(out.recipients.end(), h.begin(), h.end());
  }
  if (auto bad = bad_envelope_address(out.sender)) return *bad;
  for (const std::string& r : out.recipients)
    if (auto bad = bad_envelope_address(r)) return *bad;
  return out;
}

}  // namespace queue
