// A POP3 connection: qmail-popup's authorization state (pop3/popup.h), then
// qmail-pop3d's transaction state (pop3/pop3d.h) on the same stream, both
// reading their command lines through pop3/line_io.h from a pipe that the
// client's bytes are written into piece by piece, as the programs do.
//
// Input: a configuration byte, a piece-size byte, a mailbox byte, then what
// the client sends.  Configuration: 0x01 start in qmail-pop3d (skip the
// login), 0x02 checkpassword accepts the login, 0x04 qmail's STAT count,
// 0x08 no CAPA, 0x10 unlinking every second message fails.  Mailbox: the low
// three bits are the number of messages (0..7), the rest rotates which
// stored texts (dot lines, no final LF, CR LF, lone CR, empty...) they hold;
// even-numbered ones are in new/, odd ones in cur/ with ":2,S".
// Invariants:
//   - the line reader gives exactly the reference split of the bytes (lines
//     ending in LF, at most 1024 bytes, a longer one ends the session), and
//     qmail-popup's reader consumes nothing past the authenticating line: the
//     rest reaches qmail-pop3d intact;
//   - every reply is CR LF-terminated printable ASCII whose status lines
//     start "+OK" or "-ERR", multi-line ones ending ".\r\n", and each is the
//     reply of a reference model of both states (pop3.md's tables);
//   - the checkpassword block is "user\0pass\0timestamp\0" with exactly three
//     NULs: no NUL from the client inside a field, and the timestamp is the
//     server's own greeting's, whatever the client appends (APOP replays);
//   - message numbers in replies are in range and name undeleted messages;
//     LIST and UIDL list the same message set, with the stored sizes and the
//     names before ':';
//   - RETR and TOP stream the message in wire form: CR LF lines, dot-stuffed,
//     ending "\r\n.\r\n", TOP n k stopping after the header and k body lines;
//   - files change only at QUIT: unlinked exactly the DELEted messages,
//     renamed only undeleted new/NAME to cur/NAME:2, ; nothing on EOF, on an
//     overlong line or before QUIT;
//   - replies other than message bodies are bounded by the commands sent.

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pop3/blast.h"
#include "pop3/line_io.h"
#include "pop3/pop3d.h"
#include "pop3/popup.h"
#include "tests/fuzz/fuzz.h"

namespace {

constexpr size_t kMaxLine = 1024;   // both programs' line cap
constexpr size_t kMaxInput = 60000;  // below a pipe's capacity: writes never block

const char* const kTexts[8] = {
    "Subject: hi\n\nbody line\n",
    "From: a\nTo: b\n\n.dot line\n..two dots\n.\nend\n",
    "no header, no final newline",
    "H: x\r\n\r\nCRLF body\r\n.\r\nafter\r\n",
    "",
    "A: 1\n\nl1\nl2\nl3\nl4\nl5\n",
    "X: lone\rcr\n\n\rbody\r",
    "\n\n\n.\n",
};

struct Box {
  std::vector<pop3::Message> msgs;
  std::vector<std::string> text;
  std::vector<std::string> uidl;
};

Box make_box(uint8_t b) {
  Box box;
  for (unsigned i = 0; i < (b & 7u); ++i) {
    std::string t = kTexts[(i + (b >> 3)) % 8];
    std::string base = "17000000" + std::to_string(10 + i) + ".M" + std::to_string(i) + "P4242Q" +
                       std::to_string(i + 1) + ".mx.example.org,S=" + std::to_string(t.size());
    std::string path = i % 2 ? "cur/" + base + ":2,S" : "new/" + base;
    box.msgs.push_back({path, t.size(), false});
    box.text.push_back(t);
    box.uidl.push_back(base);
  }
  return box;
}

struct Ops : pop3::FileOps {
  bool fail_odd = false;
  const Box* box = nullptr;
  std::vector<std::string> log;
  bool unlink(const std::string& p) override {
    log.push_back("unlink " + p);
    for (size_t i = 0; i < box->msgs.size(); ++i)
      if (box->msgs[i].path == p) return !(fail_odd && i % 2);
    FUZZ_CHECK(false, "unlink of a file that is no message");
    return false;
  }
  bool rename(const std::string& f, const std::string& t) override {
    log.push_back("rename " + f + " " + t);
    return true;
  }
};

// The client's side of the pipe and the reference reading of it.
struct Wire {
  int rfd = -1, wfd = -1;
  fuzz::Input* in = nullptr;
  size_t piece = 0;
  std::string written;  // every byte written so far
  size_t used = 0;      // bytes the readers have consumed (through the last LF)
  bool closed = false;
  size_t budget = kMaxInput;

  enum Next { kLine, kOverlong, kEof, kWait };
  Next next(std::string& line) const {
    size_t nl = written.find('\n', used);
    if (nl != std::string::npos && nl - used <= kMaxLine) {
      line = written.substr(used, nl - used);
      return kLine;
    }
    if (nl != std::string::npos || written.size() - used > kMaxLine) return kOverlong;
    return closed ? kEof : kWait;
  }
  // Writes the next piece, or closes the pipe when the input is used up.
  void more() {
    std::string_view p = in->take(piece < budget ? piece : budget);
    budget -= p.size();
    if (p.empty()) {
      ::close(wfd);
      wfd = -1;
      closed = true;
      return;
    }
    size_t off = 0;
    while (off < p.size()) {
      ssize_t w = ::write(wfd, p.data() + off, p.size() - off);
      FUZZ_CHECK(w > 0, "cannot write the client's bytes into the pipe");
      off += size_t(w);
    }
    written.append(p);
  }
};

enum class End { kLine, kOverlong, kEof };

// The next command line through `r`, checked against the reference split.
End read_line(Wire& w, pop3::LineReader& r, std::string& line) {
  for (;;) {
    std::string want;
    Wire::Next n = w.next(want);
    if (n == Wire::kWait) {
      w.more();
      continue;
    }
    std::optional<std::string> got = r.next();
    if (n == Wire::kLine) {
      FUZZ_CHECK(got.has_value(), "the line reader gave up on a complete line");
      FUZZ_CHECK(*got == want, "the line reader split the bytes unlike LF lines");
      w.used += want.size() + 1;
      line = std::move(*got);
      return End::kLine;
    }
    FUZZ_CHECK(!got.has_value(), "a line from the reader where the reference has none");
    FUZZ_CHECK(r.overlong() == (n == Wire::kOverlong), "overlong() unlike the reference");
    return n == Wire::kOverlong ? End::kOverlong : End::kEof;
  }
}

// Replies: CR LF lines of printable ASCII.
void check_text(std::string_view out) {
  FUZZ_CHECK(out.size() >= 2 && out.substr(out.size() - 2) == "\r\n", "a reply without its CR LF");
  for (size_t i = 0; i < out.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    if (c == '\r') {
      FUZZ_CHECK(i + 1 < out.size() && out[i + 1] == '\n', "a CR without LF in a reply");
      ++i;
      continue;
    }
    FUZZ_CHECK(c >= 0x20 && c < 0x7f, "a control or 8-bit byte in a reply");
  }
}

bool is_status(std::string_view l) { return l.starts_with("+OK") || l.starts_with("-ERR"); }

// A reply's lines: status lines, or one status line and a body up to ".".
void check_reply_shape(std::string_view out, bool multi) {
  check_text(out);
  std::vector<std::string_view> lines;
  for (size_t at = 0; at < out.size();) {
    size_t e = out.find("\r\n", at);
    lines.push_back(out.substr(at, e - at));
    at = e + 2;
  }
  if (!multi) {
    for (auto l : lines) FUZZ_CHECK(is_status(l), "a reply line that is neither +OK nor -ERR");
    return;
  }
  FUZZ_CHECK(lines.size() >= 2 && lines.front().starts_with("+OK") && lines.back() == ".",
             "a multi-line reply not framed by +OK and '.'");
  for (size_t i = 1; i + 1 < lines.size(); ++i)
    FUZZ_CHECK(!lines[i].starts_with(".") || lines[i].starts_with(".."), "a body line starting with an unstuffed '.'");
}

// qmail's command split, as a reference: trailing CR off, cut at NUL,
// verb lower-cased up to the first space, argument after the spaces.
struct Cmd {
  std::string verb;
  std::string arg;
};
Cmd split(std::string_view l) {
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  l = l.substr(0, l.find('\0'));
  Cmd c;
  size_t sp = l.find(' ');
  for (char ch : l.substr(0, sp)) c.verb += (ch >= 'A' && ch <= 'Z') ? char(ch + 32) : ch;
  if (sp != std::string_view::npos) {
    std::string_view a = l.substr(sp);
    while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
    c.arg = std::string(a);
  }
  return c;
}

const char kCapa[] = "+OK capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nPIPELINING\r\nIMPLEMENTATION evqmail\r\n.\r\n";

// ---- qmail-popup ----------------------------------------------------------

// Returns true if the session goes on into qmail-pop3d.
bool run_popup(Wire& w, uint8_t conf, size_t& commands, size_t& out_bytes) {
  const std::string stamp = "<4242.1700000000@mx.example.org>";
  pop3::Popup p("mx.example.org", 4242, 1700000000, !(conf & 0x08));
  FUZZ_CHECK(p.timestamp() == stamp && p.greeting() == "+OK " + stamp + "\r\n", "a greeting not qmail's");
  pop3::LineReader r(w.rfd, 0, kMaxLine, true);
  std::optional<std::string> user;
  std::string user_line;  // the USER command that named it
  for (;;) {
    std::string line;
    End e = read_line(w, r, line);
    if (e != End::kLine) return false;
    ++commands;
    Cmd c = split(line);
    pop3::PopupAction a = p.command(line);
    // The reference reply.
    std::string want;
    bool auth = false, quit = false;
    std::string wuser, wpass;
    if (c.verb == "user") {
      if (c.arg.empty()) want = "-ERR syntax error\r\n";
      else { want = "+OK \r\n"; user = c.arg; user_line = line; }
    } else if (c.verb == "pass") {
      if (!user) want = "-ERR USER first\r\n";
      else if (c.arg.empty()) want = "-ERR syntax error\r\n";
      else { auth = true; wuser = *user; wpass = c.arg; }
    } else if (c.verb == "apop") {
      size_t sp = c.arg.find(' ');
      if (sp == std::string::npos) want = "-ERR syntax error\r\n";
      else { auth = true; wuser = c.arg.substr(0, sp); wpass = c.arg.substr(sp + 1); }
    } else if (c.verb == "quit") {
      want = "+OK \r\n";
      quit = true;
    } else if (c.verb == "noop") {
      want = "+OK \r\n";
    } else if (c.verb == "capa" && !(conf & 0x08)) {
      want = kCapa;
    } else {
      want = "-ERR authorization first\r\n";
    }
    FUZZ_CHECK(a.authenticate == auth, "qmail-popup authenticates unlike its table");
    FUZZ_CHECK(a.quit == quit, "qmail-popup quits unlike its table");
    if (!auth) {
      FUZZ_CHECK(a.reply == want, "a qmail-popup reply unlike its table");
      check_reply_shape(a.reply, c.verb == "capa" && !(conf & 0x08));
      out_bytes += a.reply.size();
      if (quit) return false;
      continue;
    }
    FUZZ_CHECK(a.reply.empty(), "a reply besides authenticating");
    FUZZ_CHECK(a.user == wuser && a.pass == wpass, "the login handed on is not the client's");
    FUZZ_CHECK(a.user.find('\0') == std::string::npos && a.pass.find('\0') == std::string::npos,
               "a NUL inside a checkpassword field");
    const std::string& from = c.verb == "pass" ? user_line : line;
    FUZZ_CHECK(from.find(a.user) != std::string::npos && line.find(a.pass) != std::string::npos,
               "a login field the client did not send");
    std::string block = pop3::checkpassword_input(a.user, a.pass, p.timestamp());
    size_t nuls = 0;
    for (char ch : block) nuls += ch == '\0';
    FUZZ_CHECK(nuls == 3 && block.back() == '\0', "a checkpassword block without exactly three fields");
    size_t z1 = block.find('\0'), z2 = block.find('\0', z1 + 1);
    FUZZ_CHECK(block.substr(0, z1) == a.user && block.substr(z1 + 1, z2 - z1 - 1) == a.pass,
               "checkpassword fields cut or moved");
    FUZZ_CHECK(block.substr(z2 + 1, block.size() - z2 - 2) == stamp, "a timestamp other than the server's");
    if (!(conf & 0x02)) out_bytes += std::string_view("-ERR authorization failed\r\n").size();
    return conf & 0x02;  // checkpassword runs qmail-pop3d on the rest of the stream
  }
}

// ---- qmail-pop3d ----------------------------------------------------------

// The reference TOP/RETR wire form of `text` with qmail's limit encoding.
std::string ref_wire(std::string_view text, uint64_t limit) {
  // The stored lines to send: the header through its empty line, then
  // limit-1 body lines (all of them when limit is 0).
  std::string send;
  bool inheaders = true;
  uint64_t body = 0;
  for (std::string_view t = text; !t.empty();) {
    size_t nl = t.find('\n');
    std::string_view l = t.substr(0, nl == std::string_view::npos ? t.size() : nl + 1);
    if (limit && !inheaders && ++body >= limit) break;
    send.append(l);
    std::string_view core = l.substr(0, l.size() - (l.back() == '\n' ? 1 : 0));
    if (l.back() == '\n' && (core.empty() || core == "\r")) inheaders = false;
    t.remove_prefix(l.size());
  }
  // CR LF, a lone LF and a lone CR each end a line; dots doubled.
  std::string out, cur;
  bool open = false;
  auto end_line = [&]() {
    if (!cur.empty() && cur[0] == '.') out += '.';
    out += cur + "\r\n";
    cur.clear();
    open = false;
  };
  for (size_t i = 0; i < send.size(); ++i) {
    char c = send[i];
    if (c == '\r') {
      end_line();
      if (i + 1 < send.size() && send[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      end_line();
    } else {
      cur += c;
      open = true;
    }
  }
  if (open) end_line();
  return out + "\r\n.\r\n";
}

struct Model {
  const Box* box;
  uint8_t conf;
  std::vector<bool> deleted;
  size_t last = 0;
  bool unlink_fails = false;

  // qmail-pop3d's message number: index, or the error reply.
  long msgno(std::string_view arg, std::string& err) const {
    size_t d = 0;
    bool big = false;
    uint64_t v = 0;
    while (d < arg.size() && arg[d] >= '0' && arg[d] <= '9') {
      uint64_t x = uint64_t(arg[d] - '0');
      if (v > (UINT64_MAX - x) / 10) big = true;
      else if (!big) v = v * 10 + x;
      ++d;
    }
    if (d == 0 || (d < arg.size() && arg[d] != ' ')) { err = "-ERR syntax error\r\n"; return -1; }
    if (!big && v == 0) { err = "-ERR messages are counted from 1\r\n"; return -1; }
    if (big || v > box->msgs.size()) { err = "-ERR not that many messages\r\n"; return -1; }
    if (deleted[v - 1]) { err = "-ERR already deleted\r\n"; return -1; }
    return long(v - 1);
  }
};

void run_pop3d(Wire& w, uint8_t conf, const Box& box, Ops& ops, size_t& commands, size_t& out_bytes) {
  pop3::Pop3dOptions opt;
  opt.qmail_stat = conf & 0x04;
  opt.capa = !(conf & 0x08);
  pop3::Pop3d pop(box.msgs, ops, opt);
  FUZZ_CHECK(pop.size() == box.msgs.size(), "a session with another number of messages");
  for (size_t i = 0; i < box.msgs.size(); ++i)
    FUZZ_CHECK(pop.uidl(i) == box.uidl[i], "a UIDL other than the name before ':'");
  out_bytes += pop3::Pop3d::greeting().size();
  Model m{&box, conf, std::vector<bool>(box.msgs.size(), false)};
  pop3::LineReader r(w.rfd, 0, kMaxLine);
  for (;;) {
    std::string line;
    End e = read_line(w, r, line);
    if (e != End::kLine) {
      FUZZ_CHECK(ops.log.empty(), "files changed by a session that ended without QUIT");
      return;
    }
    ++commands;
    FUZZ_CHECK(ops.log.empty(), "files changed before QUIT");
    Cmd c = split(line);
    pop3::Action a = pop.command(line);
    std::string want;
    bool multi = false;
    long blast = -1;
    uint64_t limit = 0;
    const std::string& v = c.verb;
    std::string err;
    size_t n = box.msgs.size();
    if (v == "quit") {
      bool fail = false;
      for (size_t i = 0; i < n; ++i) fail = fail || (m.deleted[i] && (ops.fail_odd && i % 2));
      want = fail ? "-ERR unable to unlink all deleted messages\r\n+OK \r\n" : "+OK \r\n";
    } else if (v == "stat") {
      uint64_t count = 0, bytes = 0;
      for (size_t i = 0; i < n; ++i)
        if (!m.deleted[i]) { ++count; bytes += box.msgs[i].size; }
      if (opt.qmail_stat) count = n;
      want = "+OK " + std::to_string(count) + " " + std::to_string(bytes) + "\r\n";
    } else if (v == "list" || v == "uidl") {
      auto entry = [&](size_t i) {
        return std::to_string(i + 1) + " " + (v == "uidl" ? box.uidl[i] : std::to_string(box.msgs[i].size)) + "\r\n";
      };
      if (c.arg.empty()) {
        multi = true;
        want = "+OK \r\n";
        for (size_t i = 0; i < n; ++i)
          if (!m.deleted[i]) want += entry(i);
        want += ".\r\n";
      } else {
        long i = m.msgno(c.arg, err);
        want = i < 0 ? err : "+OK " + entry(size_t(i));
      }
    } else if (v == "dele") {
      long i = m.msgno(c.arg, err);
      if (i < 0) want = err;
      else {
        want = "+OK \r\n";
        m.deleted[size_t(i)] = true;
        if (size_t(i) + 1 > m.last) m.last = size_t(i) + 1;
      }
    } else if (v == "retr" || v == "top") {
      long i = m.msgno(c.arg, err);
      if (i < 0) want = err;
      else {
        want = "+OK \r\n";
        blast = i;
        if (v == "top") {
          std::string_view k = c.arg;
          while (!k.empty() && k.front() >= '0' && k.front() <= '9') k.remove_prefix(1);
          while (!k.empty() && k.front() == ' ') k.remove_prefix(1);
          size_t d = 0;
          bool big = false;
          uint64_t kv = 0;
          while (d < k.size() && k[d] >= '0' && k[d] <= '9') {
            uint64_t x = uint64_t(k[d] - '0');
            if (kv > (UINT64_MAX - x) / 10) big = true;
            else if (!big) kv = kv * 10 + x;
            ++d;
          }
          if (d) limit = (big || kv == UINT64_MAX) ? 0 : kv + 1;
        }
      }
    } else if (v == "rset") {
      m.deleted.assign(n, false);
      m.last = 0;
      want = "+OK \r\n";
    } else if (v == "last") {
      want = "+OK " + std::to_string(m.last) + "\r\n";
    } else if (v == "noop") {
      want = "+OK \r\n";
    } else if (v == "capa" && opt.capa) {
      want = kCapa;
      multi = true;
    } else {
      want = "-ERR unimplemented\r\n";
    }
    FUZZ_CHECK(a.reply == want, "a qmail-pop3d reply unlike its table");
    FUZZ_CHECK(a.blast == blast, "a message streamed that was not asked for, or none that was");
    FUZZ_CHECK(a.quit == (v == "quit"), "qmail-pop3d quits unlike its table");
    check_reply_shape(a.reply, multi);
    if ((v == "list" || v == "uidl") && a.reply.starts_with("+OK")) {
      // The numbers listed name undeleted messages, in range.
      std::string_view body = a.reply;
      body.remove_prefix(body.find("\r\n") + 2);
      if (!multi) body = std::string_view(a.reply).substr(4);
      for (size_t at = 0; at < body.size();) {
        size_t e2 = body.find("\r\n", at);
        std::string_view l = body.substr(at, e2 - at);
        at = e2 + 2;
        if (l == "." || l.starts_with("-ERR")) continue;
        uint64_t num = 0;
        for (char ch : l.substr(0, l.find(' '))) num = num * 10 + uint64_t(ch - '0');
        FUZZ_CHECK(num >= 1 && num <= n && !m.deleted[num - 1], "a listed message number out of range or deleted");
      }
    }
    if (a.blast >= 0) {
      FUZZ_CHECK(a.limit == limit, "a TOP limit unlike the reference");
      const std::string& text = box.text[size_t(a.blast)];
      // send_message's loop: chunks, stopping once the limit is reached.
      pop3::Blaster b(a.limit);
      std::string wire;
      size_t chunk = (w.piece % 7) + 1;
      for (std::string_view t = text; !t.empty();) {
        std::string_view ck = t.substr(0, chunk);
        t.remove_prefix(ck.size());
        if (!b.feed(ck, wire)) break;
      }
      b.finish(wire);
      FUZZ_CHECK(wire == ref_wire(text, a.limit), "a message's wire form unlike the reference");
      check_reply_shape("+OK \r\n" + wire, true);
      FUZZ_CHECK(wire.size() >= 5 && wire.substr(wire.size() - 5) == "\r\n.\r\n", "a message not ended by CR LF . CR LF");
    } else {
      out_bytes += a.reply.size();
    }
    if (a.quit) {
      // QUIT's commit: exactly the deleted unlinked, the rest of new/ moved.
      std::vector<std::string> log;
      for (size_t i = 0; i < n; ++i) {
        const std::string& p = box.msgs[i].path;
        if (m.deleted[i]) log.push_back("unlink " + p);
        else if (p.starts_with("new/")) log.push_back("rename " + p + " cur/" + p.substr(4) + ":2,");
      }
      FUZZ_CHECK(ops.log == log, "QUIT changed other files than DELE marked and new/ holds");
      FUZZ_CHECK(pop.quit(), "a session going on after QUIT");
      pop3::Action after = pop.command("NOOP");
      FUZZ_CHECK(after.reply.empty() && after.blast < 0, "a reply after QUIT");
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t conf = in.byte();
  size_t piece = fuzz::piece(in.byte());
  Box box = make_box(in.byte());
  Ops ops;
  ops.box = &box;
  ops.fail_odd = conf & 0x10;

  int fds[2];
  FUZZ_CHECK(::pipe2(fds, O_CLOEXEC) == 0, "no pipe");
  Wire w;
  w.rfd = fds[0];
  w.wfd = fds[1];
  w.in = &in;
  w.piece = piece;

  size_t commands = 0, out_bytes = 0;
  bool on = true;
  if (!(conf & 0x01)) on = run_popup(w, conf, commands, out_bytes);
  if (on) run_pop3d(w, conf, box, ops, commands, out_bytes);
  else FUZZ_CHECK(ops.log.empty(), "files changed without a qmail-pop3d session");
  // Replies other than bodies: a bounded amount per command.
  FUZZ_CHECK(out_bytes <= 100 + commands * (120 + 60 * box.msgs.size()), "replies not bounded by the commands");

  ::close(w.rfd);
  if (w.wfd >= 0) ::close(w.wfd);
  return 0;
}
