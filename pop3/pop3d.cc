// qmail-pop3d's transaction state (see pop3d.h). Reply texts are qmail's.
#include "pop3/pop3d.h"

#include "pop3/command.h"

namespace pop3 {

namespace {
const char kOk[] = "+OK \r\n";
std::string err(std::string_view text) { return "-ERR " + std::string(text) + "\r\n"; }
Action reply(std::string text) { Action a; a.reply = std::move(text); return a; }
}  // namespace

Pop3d::Pop3d(std::vector<Message> messages, FileOps& ops, Pop3dOptions opt)
    : msgs_(std::move(messages)), ops_(ops), opt_(opt) {}

std::string Pop3d::uidl(size_t i) const {
  std::string_view p = msgs_[i].path;
  size_t slash = p.find('/');
  if (slash != std::string_view::npos) p.remove_prefix(slash + 1);
  return std::string(p.substr(0, p.find(':')));
}

long Pop3d::msgno(std::string_view arg, std::string& e) const {
  Number n = scan_number(arg);
  // qmail accepts trailing text after the digits; we require a space or the end.
  if (!n.digits || (n.digits < arg.size() && arg[n.digits] != ' ')) { e = err("syntax error"); return -1; }
  if (n.value == 0) { e = err("messages are counted from 1"); return -1; }
  // An overflowing number is simply too large, never a wrapped small one.
  if (n.overflow || n.value > msgs_.size()) { e = err("not that many messages"); return -1; }
  long i = long(n.value - 1);
  if (msgs_[size_t(i)].deleted) { e = err("already deleted"); return -1; }
  return i;
}

Action Pop3d::command(std::string_view line) {
  if (quit_) return {};
  Command c = parse_command(line);
  const std::string& v = c.verb;
  if (v == "quit") return commit();
  if (v == "stat") return stat();
  if (v == "list") return listing(c.arg, false);
  if (v == "uidl") return listing(c.arg, true);
  if (v == "dele") return dele(c.arg);
  if (v == "retr") return top(c.arg, true);
  if (v == "top") return top(c.arg, false);
  if (v == "rset") return rset();
  if (v == "last") return reply("+OK " + std::to_string(last_) + "\r\n");
  if (v == "noop") return reply(kOk);
  if (v == "capa" && opt_.capa) return capa();
  return reply(err("unimplemented"));
}

Action Pop3d::stat() const {
  uint64_t count = 0, bytes = 0;
  for (const Message& m : msgs_) {
    if (!m.deleted) { ++count; bytes += m.size; }
  }
  if (opt_.qmail_stat) count = msgs_.size();
  return reply("+OK " + std::to_string(count) + " " + std::to_string(bytes) + "\r\n");
}

Action Pop3d::listing(std::string_view arg, bool uid) const {
  auto line = [&](size_t i) {
    return std::to_string(i + 1) + " " + (uid ? uidl(i) : std::to_string(msgs_[i].size)) + "\r\n";
  };
  if (!arg.empty()) {
    std::string e;
    long i = msgno(arg, e);
    if (i < 0) return reply(e);
    return reply("+OK " + line(size_t(i)));
  }
  std::string out = kOk;
  for (size_t i = 0; i < msgs_.size(); ++i) {
    if (!msgs_[i].deleted) out += line(i);
  }
  out += ".\r\n";
  return reply(std::move(out));
}

Action Pop3d::top(std::string_view arg, bool retr) {
  std::string e;
  long i = msgno(arg, e);
  if (i < 0) return reply(e);
  Action a = reply(kOk);
  a.blast = int(i);
  if (retr) return a;  // RETR always sends the whole message
  // "TOP n k": k body lines, encoded as k+1 the way qmail's blast() counts.
  // A missing or non-numeric k sends the whole message (qmail's quirk);
  // a huge k is as good as "all lines".
  arg.remove_prefix(scan_number(arg).digits);
  while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  Number k = scan_number(arg);
  if (k.digits) a.limit = (k.overflow || k.value == UINT64_MAX) ? 0 : k.value + 1;
  return a;
}

Action Pop3d::dele(std::string_view arg) {
  std::string e;
  long i = msgno(arg, e);
  if (i < 0) return reply(e);
  msgs_[size_t(i)].deleted = true;
  if (size_t(i) + 1 > last_) last_ = size_t(i) + 1;
  return reply(kOk);
}

Action Pop3d::rset() {
  for (Message& m : msgs_) m.deleted = false;
  last_ = 0;
  return reply(kOk);
}

Action Pop3d::commit() {
  // Only here does the Maildir change: a session that ends any other way
  // (drop, timeout, crash) leaves every message where it was.
  std::string out;
  bool unlink_failed = false;
  for (const Message& m : msgs_) {
    if (m.deleted) {
      if (!ops_.unlink(m.path)) unlink_failed = true;
    } else if (m.path.compare(0, 4, "new/") == 0) {
      ops_.rename(m.path, "cur/" + m.path.substr(4) + ":2,");  // failure is harmless
    }
  }
  if (unlink_failed) out = err("unable to unlink all deleted messages");
  out += kOk;
  quit_ = true;
  Action a = reply(std::move(out));
  a.quit = true;
  return a;
}

Action Pop3d::capa() const {
  return reply(
      "+OK capability list follows\r\n"
      "TOP\r\nUIDL\r\nUSER\r\nPIPELINING\r\nIMPLEMENTATION evqmail\r\n.\r\n");
}

}  // namespace pop3
