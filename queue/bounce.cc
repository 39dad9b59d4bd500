// Bounce composition (see bounce.h).
#include "queue/bounce.h"

#include <fcntl.h>

#include <cctype>

#include "reactor/control.h"
#include "reactor/fd.h"

namespace queue {

std::string verp_sender(std::string_view sender, std::string_view recipient) {
  size_t i = sender.size();
  if (i >= 4 && sender.substr(i - 4) == "-@[]") {
    size_t j = sender.substr(0, i - 4).rfind('@');
    if (j == std::string_view::npos) j = i - 4;  // qmail's byte_rchr: "not found" is the end
    size_t k = recipient.rfind('@');
    if (k != std::string_view::npos && j + 5 <= i) {
      std::string out(sender.substr(0, j));
      out.append(recipient.substr(0, k));
      out += '=';
      out.append(recipient.substr(k + 1));
      out += '@';
      out.append(sender.substr(j + 1, i - 5 - j));
      return out;
    }
  }
  return std::string(sender);
}

// [WEAKNESS] qmail writes the addresses of a bounce's header as they are; a
// CR or LF in one would start a header line of its own. They become '_' as
// qmail's own entries do with LF.
static std::string no_breaks(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = '_';
  return s;
}

std::string bounce_entry(std::string_view recipient, std::string_view report) {
  std::string t = "<";
  t.append(recipient);
  t = no_breaks(std::move(t));
  t += ">:\n";
  t.append(report);
  if (!report.empty() && report.back() != '\n') t += '\n';
  // An empty line would end the entry early: mark it with "/" as qmail does.
  for (size_t pos = t.size() - 2; pos > 0; --pos)
    if (t[pos] == '\n' && t[pos - 1] == '\n') t[pos] = '/';
  t += '\n';
  return t;
}

BounceKind bounce_kind(std::string_view sender) {
  if (sender.empty()) return BounceKind::dbl;
  if (sender == "#@[]") return BounceKind::triple;
  return BounceKind::single;
}

std::string bounce_target(std::string_view sender) {
  if (sender.size() >= 4 && sender.substr(sender.size() - 4) == "-@[]")
    return std::string(sender.substr(0, sender.size() - 4));
  return std::string(sender);
}

namespace {
// RFC 822 local part needing quotes: specials, blanks, controls, odd dots.
bool needs_quote(std::string_view local) {
  if (local.empty()) return false;
  if (local.front() == '.' || local.back() == '.') return true;
  for (size_t i = 0; i < local.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(local[i]);
    if (c <= 32 || c >= 127) return true;
    if (std::string_view("()<>@,;:\\\"[]").find(static_cast<char>(c)) != std::string_view::npos) return true;
    if (c == '.' && i + 1 < local.size() && local[i + 1] == '.') return true;
  }
  return false;
}

std::string quote_local(std::string_view local) {
  if (!needs_quote(local)) return std::string(local);
  std::string out = "\"";
  for (char c : local) {
    if (c == '"' || c == '\\' || c == '\n') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}
}  // namespace

std::string quote_address(std::string_view addr) {
  size_t at = addr.rfind('@');
  if (at == std::string_view::npos) return quote_local(addr);
  return quote_local(addr.substr(0, at)) + std::string(addr.substr(at));
}

namespace {
// The QSBMF body text from "Hi." through the separator line: part 1 of an
// RFC 3464 report is exactly this, so QSBMF parsers keep working on it.
std::string qsbmf_text(std::string_view bouncehost, bool single, std::string_view entries) {
  std::string m = "Hi. This is the qmail-send program at ";
  m.append(bouncehost);
  m += single ? ".\nI'm afraid I wasn't able to deliver your message to the following addresses.\n"
                "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
              : ".\nI tried to deliver a bounce message to this address, but the bounce bounced!\n\n";
  m.append(entries);
  m += single ? "--- Below this line is a copy of the message.\n"
              : "--- Below this line is the original bounce.\n";
  return m;
}

// Date, From, To and Subject, as qmail writes them.
std::string bounce_fields(std::string_view date, std::string_view bouncefrom, std::string_view bouncehost,
                          std::string_view to) {
  std::string m = "Date: ";
  m.append(date);
  m += "\nFrom: ";
  m += quote_local(bouncefrom);
  m += '@';
  m.append(bouncehost);
  m += "\nTo: ";
  m += quote_address(no_breaks(std::string(to)));
  m += "\nSubject: failure notice\n";
  return m;
}

std::string return_path(std::string_view sender) {
  return "Return-Path: <" + quote_address(no_breaks(std::string(sender))) + ">\n";
}
}  // namespace

std::string bounce_head(std::string_view date, std::string_view bouncefrom,
                        std::string_view bouncehost, std::string_view to, std::string_view sender,
                        std::string_view entries) {
  std::string m = bounce_fields(date, bouncefrom, bouncehost, to);
  m += '\n';
  m += qsbmf_text(bouncehost, !sender.empty(), entries);
  m += '\n';
  m += return_path(sender);
  return m;
}

// ---- evqmail's opt-in RFC 3464 report (queue.md 4.7 [WEAKNESS]) ----

std::optional<BounceFormat> parse_bounce_format(std::string_view text) {
  std::string t = reactor::lowercase(text);
  if (t.empty() || t == "qsbmf") return BounceFormat::qsbmf;
  if (t == "rfc3464") return BounceFormat::rfc3464;
  return std::nullopt;
}

std::vector<BounceEntry> parse_bounce_entries(std::string_view entries) {
  std::vector<BounceEntry> out;
  bool in_entry = false;
  size_t pos = 0;
  while (pos < entries.size()) {
    size_t nl = entries.find('\n', pos);
    std::string_view line = entries.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? entries.size() : nl + 1;
    if (!in_entry) {
      // "<recipient>:" opens a paragraph; anything else between paragraphs is ignored.
      if (line.size() >= 3 && line.front() == '<' && line.substr(line.size() - 2) == ">:") {
        out.push_back({std::string(line.substr(1, line.size() - 3)), {}});
        in_entry = true;
      }
      continue;
    }
    if (line.empty()) {
      in_entry = false;
      continue;
    }
    std::string& r = out.back().report;
    // bounce_entry() turned an empty line into a "/" at the start of the next one.
    if (line.front() == '/') {
      r += '\n';
      line.remove_prefix(1);
    }
    r.append(line);
    r += '\n';
  }
  return out;
}

namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "x.y.z" at `p` (class 2, 4 or 5, then 1-3 digits twice); its length or 0.
size_t status_at(std::string_view s, size_t p) {
  if (p >= s.size() || (s[p] != '2' && s[p] != '4' && s[p] != '5')) return 0;
  size_t i = p + 1;
  for (int part = 0; part < 2; ++part) {
    if (i >= s.size() || s[i] != '.') return 0;
    size_t d = ++i;
    while (i < s.size() && is_digit(s[i]) && i - d < 4) ++i;
    if (i == d || i - d > 3) return 0;
  }
  if (i < s.size() && (is_digit(s[i]) || s[i] == '.')) return 0;
  return i - p;
}

constexpr std::string_view kRemoteSaid = "Remote host said: ";

// The SMTP reply qmail-remote quoted: "Remote host said: " at a line start
// and the continuation lines of a multi-line reply ("550-...", "550 ...").
std::optional<std::string> remote_reply(std::string_view report) {
  size_t at = report.find(kRemoteSaid);
  while (at != std::string_view::npos && at != 0 && report[at - 1] != '\n')
    at = report.find(kRemoteSaid, at + 1);
  if (at == std::string_view::npos) return std::nullopt;
  size_t pos = at + kRemoteSaid.size();
  size_t nl = report.find('\n', pos);
  std::string reply(report.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
  while (nl != std::string_view::npos) {
    pos = nl + 1;
    nl = report.find('\n', pos);
    std::string_view line = report.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (line.size() < 4 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
        (line[3] != ' ' && line[3] != '-'))
      break;
    reply += ' ';
    reply.append(line);
  }
  return reply;
}

// One header line's worth of text: controls and 8-bit bytes become blanks
// or '?', runs of blanks collapse, and the length is bounded (RFC 5322: 998).
std::string header_text(std::string_view s) {
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    char o = c < 32 || c == 127 ? ' ' : c > 127 ? '?' : ch;
    if (o == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += o;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > 900) out.resize(900);
  return out;
}

// "Name: value\n", folded at blanks so that lines stay near 78 columns.
std::string folded(std::string_view name, std::string_view value) {
  std::string out(name);
  out += ": ";
  size_t col = out.size();
  size_t pos = 0;
  while (pos < value.size()) {
    size_t sp = value.find(' ', pos + 1);
    std::string_view word = value.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos);
    if (col + word.size() > 78 && pos != 0 && word.front() == ' ') {
      out += '\n';  // the blank starting `word` continues the field (RFC 5322 folding)
      col = 0;
    }
    out.append(word);
    col += word.size();
    pos = sp == std::string_view::npos ? value.size() : sp;
  }
  out += '\n';
  return out;
}
}  // namespace

std::string dsn_status(std::string_view report) {
  // qmail's own convention: the last "(#x.y.z)" of the report is its verdict.
  for (size_t end = report.size(); end > 0;) {
    size_t p = report.rfind('#', end - 1);
    if (p == std::string_view::npos) break;
    if (size_t n = status_at(report, p + 1)) return std::string(report.substr(p + 1, n));
    end = p;
  }
  // A remote server's enhanced code: "Remote host said: 550 5.1.1 ...".
  if (auto reply = remote_reply(report); reply && reply->size() > 4) {
    if (size_t n = status_at(*reply, 4)) return reply->substr(4, n);
  }
  return "5.0.0";
}

std::string dsn_diagnostic(std::string_view report, bool local) {
  if (auto reply = remote_reply(report)) return "smtp; " + header_text(*reply);
  std::string joined;
  for (char c : report) joined += c == '\n' ? ' ' : c;
  return std::string(local ? "x-unix; " : "x-qmail; ") + header_text(joined);
}

std::string_view message_header(std::string_view msg, size_t max) {
  size_t end;
  if (!msg.empty() && msg.front() == '\n') end = 0;
  else if (size_t blank = msg.find("\n\n"); blank != std::string_view::npos) end = blank + 1;
  else end = msg.size();
  if (end > max) {
    size_t nl = max ? msg.rfind('\n', max - 1) : std::string_view::npos;
    end = nl == std::string_view::npos ? 0 : nl + 1;
  }
  return msg.substr(0, end);
}

std::string mime_boundary(std::string_view seed, const std::vector<std::string_view>& texts,
                          const std::function<bool(std::string_view)>& also) {
  // "=_" cannot occur in base64 or in quoted-printable output; the check
  // below covers every other text the report carries.
  for (unsigned n = 0;; ++n) {
    std::string b = "=_evqmail.";
    b.append(seed);
    if (n) b += "." + std::to_string(n);
    bool clash = false;
    for (auto t : texts)
      if (t.find(b) != std::string_view::npos) clash = true;
    if (!clash && also && also(b)) clash = true;
    if (!clash) return b;
  }
}

namespace {
std::string stripped_note(unsigned long cap) {
  return "--- Message body stripped: the message is larger than the bounce limit of " +
         std::to_string(cap) + " bytes; only its header is returned.\n";
}

std::string delivery_status(const BounceSpec& spec) {
  std::string m = "Reporting-MTA: dns; " + header_text(spec.reporting_mta.empty() ? spec.bouncehost
                                                                                : spec.reporting_mta) + "\n";
  if (!spec.arrival_date.empty()) m += "Arrival-Date: " + spec.arrival_date + "\n";
  for (auto& e : parse_bounce_entries(spec.entries)) {
    bool local = spec.is_local && spec.is_local(e.recipient);
    m += "\nFinal-Recipient: rfc822; " + header_text(e.recipient) + "\n";
    m += "Action: failed\n";
    m += "Status: " + dsn_status(e.report) + "\n";
    m += folded("Diagnostic-Code", dsn_diagnostic(e.report, local));
  }
  return m;
}
}  // namespace

BounceParts compose_bounce_parts(const BounceSpec& spec, const ReturnedCopy& copy) {
  const bool single = !spec.sender.empty();
  const bool streamed = static_cast<bool>(copy.streamed_contains);
  std::string returned = return_path(spec.sender);
  if (!streamed) returned.append(copy.text);
  if (spec.format == BounceFormat::qsbmf) {
    BounceParts p{bounce_head(spec.date, spec.bouncefrom, spec.bouncehost, spec.to, spec.sender, spec.entries),
                  {}};
    if (streamed) return p;
    p.head.append(copy.text);
    if (copy.header_only) {
      if (!copy.text.empty() && copy.text.back() != '\n') p.head += '\n';
      p.head += '\n';
      p.head += stripped_note(copy.cap);
    }
    return p;
  }

  std::string text = qsbmf_text(spec.bouncehost, single, spec.entries);
  if (copy.header_only) text += "\n" + stripped_note(copy.cap);
  std::string status = delivery_status(spec);
  std::string b = mime_boundary(spec.boundary_seed, {text, status, returned}, copy.streamed_contains);

  BounceParts p;
  std::string& m = p.head;
  m = bounce_fields(spec.date, spec.bouncefrom, spec.bouncehost, spec.to);
  m += "MIME-Version: 1.0\n";
  m += "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"" + b + "\"\n\n";
  // Each delimiter owns the line break before it (RFC 2046 5.1.1), hence "\n--".
  m += "--" + b + "\nContent-Type: text/plain; charset=us-ascii\n\n" + text;
  m += "\n--" + b + "\nContent-Type: message/delivery-status\n\n" + status;
  m += "\n--" + b + "\nContent-Type: ";
  m += copy.header_only ? "text/rfc822-headers" : "message/rfc822";
  m += "\n\n" + returned;
  p.tail = "\n--" + b + "--\n";
  return p;
}

std::string compose_bounce(const BounceSpec& spec, const ReturnedCopy& copy) {
  BounceParts p = compose_bounce_parts(spec, copy);
  return p.head + p.tail;
}

bool file_contains(const std::string& path, std::string_view needle) {
  if (needle.empty()) return true;
  reactor::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  // A window of one chunk plus the last needle.size() - 1 bytes of the one
  // before, so a match across two reads is still seen.
  const size_t keep = needle.size() - 1;
  std::string win;
  char buf[65536];
  for (;;) {
    ssize_t r = reactor::read_some(fd.get(), buf, sizeof buf);
    if (r <= 0) return false;
    win.append(buf, static_cast<size_t>(r));
    if (win.find(needle) != std::string::npos) return true;
    if (win.size() > keep) win.erase(0, win.size() - keep);
  }
}

}  // namespace queue
