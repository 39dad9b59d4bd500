// qmail-pop3d's driver (see pop3d_run.h).
#include "pop3/pop3d_run.h"

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

#include "pop3/blast.h"
#include "pop3/line_io.h"
#include "pop3/mailbox.h"
#include "reactor/fd.h"

namespace pop3 {

int io_timeout() {
  const char* t = std::getenv("POP3D_TIMEOUT");
  if (t && *t) {
    int v = std::atoi(t);
    if (v > 0) return v;
  }
  return kTimeout;
}

namespace {

constexpr size_t kFlushAt = 64u << 10;

// Output is collected and written when the client has nothing more queued
// (pipelined commands get one write) or when it grows past kFlushAt.
struct Out {
  int fd;
  int timeout;
  std::string buf;
  bool flush() {
    bool ok = write_timeout(fd, buf, timeout);
    buf.clear();
    return ok;
  }
  bool maybe_flush() { return buf.size() < kFlushAt || flush(); }
};

// Streams message `path` in wire form; false if the client went away.
// An unreadable message is reported before "+OK", so it is opened first.
bool send_message(Out& out, const std::string& path, uint64_t limit) {
  reactor::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    out.buf += "-ERR unable to open that message\r\n";
    return true;
  }
  out.buf += "+OK \r\n";
  Blaster b(limit);
  char chunk[64u << 10];
  for (;;) {
    ssize_t r = reactor::read_some(fd.get(), chunk, sizeof chunk);
    if (r < 0) return false;  // qmail dies on a read error mid-message
    if (r == 0) break;
    bool more = b.feed(std::string_view(chunk, size_t(r)), out.buf);
    if (!out.maybe_flush()) return false;
    if (!more) break;
  }
  b.finish(out.buf);
  return out.maybe_flush();
}

}  // namespace

int run_pop3d(const char* maildir, Pop3dOptions opt, int timeout) {
  Out out{1, timeout, {}};
  if (!maildir || ::chdir(maildir) != 0) {
    out.buf = "-ERR this user has no $HOME/Maildir\r\n";
    out.flush();
    return 0;
  }
  std::time_t now = std::time(nullptr);
  clean_tmp(".", now);
  auto msgs = scan_maildir(".", now);
  if (!msgs) {
    out.buf = "-ERR unable to scan $HOME/Maildir\r\n";
    out.flush();
    return 0;
  }
  RealFileOps ops;
  Pop3d pop(std::move(*msgs), ops, opt);
  out.buf = Pop3d::greeting();
  LineReader in(0, timeout);
  for (;;) {
    if (!in.line_buffered() && !out.flush()) return 0;
    auto line = in.next();
    if (!line) {
      // EOF, timeout or an endless line: nothing is deleted or moved.
      if (in.overlong()) {
        out.buf += "-ERR line too long\r\n";
        out.flush();
      }
      return 0;
    }
    Action a = pop.command(*line);
    if (a.blast >= 0) {
      // The machine's "+OK " is replaced by the file's own answer.
      if (!send_message(out, pop.message(size_t(a.blast)).path, a.limit)) return 0;
    } else {
      out.buf += a.reply;
      if (!out.maybe_flush()) return 0;
    }
    if (a.quit) { out.flush(); return 0; }
  }
}

}  // namespace pop3
