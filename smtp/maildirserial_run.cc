#include "smtp/maildirserial_run.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/date822.h"
#include "queue/home.h"
#include "queue/qq.h"
#include "reactor/child.h"
#include "reactor/fd.h"
#include "smtp/maildirserial_core.h"
#include "smtp/serial_message.h"

namespace smtp {

namespace {

void say(const std::string& kind, const std::string& text) {
  std::string line = "maildirserial: " + kind + ": " + text;
  if (line.empty() || line.back() != '\n') line += '\n';
  (void)reactor::write_all(2, line);
}

// Everything one run of maildirserial keeps between client runs.
class Runner {
 public:
  explicit Runner(const MaildirSerialOptions& o) : o_(o) {}
  int run();

 private:
  bool usable(const std::string& fn);
  void handle(const ClientReport& r);
  int bounce(const std::string& fn, const std::string& why, bool timed_out);

  const MaildirSerialOptions& o_;
  BounceControls controls_;
  std::set<std::string> dead_;  // reported and kept: not offered again in this run
  std::set<std::string> sent_;  // offered to the current client
};

bool Runner::usable(const std::string& fn) {
  if (dead_.count(fn)) return false;
  if (o_.prefix.empty()) return true;
  int fd = ::open(fn.c_str(), O_RDONLY);
  if (fd < 0) {
    say("warning", "unable to open " + fn + ": " + reactor::errno_text(errno));
    return false;
  }
  // The two envelope lines are short; 64 KB covers any sane Return-Path.
  std::string head;
  head.resize(65536);
  ssize_t n = ::read(fd, head.data(), head.size());
  ::close(fd);
  if (n < 0) {
    say("warning", "unable to read " + fn + ": " + reactor::errno_text(errno));
    return false;
  }
  head.resize(static_cast<size_t>(n));
  return delivered_to_has_prefix(head, o_.prefix);
}

int Runner::bounce(const std::string& fn, const std::string& why, bool timed_out) {
  auto file = reactor::read_file(fn);
  if (!file) {
    say("warning", "unable to read " + fn + ": " + file.error().text);
    return -1;
  }
  auto b = make_bounce(*file, o_.prefix, why, timed_out, controls_, queue::date822_utc(std::time(nullptr)));
  if (!b) {
    say("warning", "unable to bounce " + fn + ": bad file format");
    return -1;
  }
  if (b->triple) {
    say("info", "discarding " + fn + ": triple bounce");
    return 1;
  }
  queue::QueueClient qq;
  if (auto s = qq.start(); !s) {
    say("fatal", "unable to run qq: " + s.error().text);
    std::exit(111);
  }
  qq.put(b->message);
  qq.from(b->sender);
  qq.to(b->recipient);
  pid_t qp = qq.pid();
  if (auto s = qq.finish(); !s) {
    say("warning", "unable to bounce " + fn + ": qq failed: " + s.error().text);
    return -1;
  }
  say("info", "returned " + fn + ": qp " + std::to_string(qp));
  return 1;
}

void Runner::handle(const ClientReport& r) {
  if (!sent_.count(r.fn)) {
    say("warning", "ignoring a report on a file not offered: " + r.fn);
    return;
  }
  std::string why = r.text + "\n";
  if (r.status == 'K') {
    say("info", r.fn + " succeeded: " + why);
    if (::unlink(r.fn.c_str()) != 0) {
      say("warning", "message will be delivered twice! unable to unlink " + r.fn + ": " + reactor::errno_text(errno));
      dead_.insert(r.fn);
    }
    return;
  }
  std::optional<std::time_t> mtime;
  struct stat st;
  if (o_.lifetime) {
    if (::stat(r.fn.c_str(), &st) == 0)
      mtime = st.st_mtime;
    else
      say("warning", "assuming message is still alive; unable to stat " + r.fn + ": " + reactor::errno_text(errno));
  }
  Decision d = decide(r.status, o_.bounce, o_.lifetime, mtime, std::time(nullptr));
  if (d.action == FileAction::kBounce) {
    say("info", r.fn + " bounced: " + why);
    if (bounce(r.fn, why, d.timed_out) > 0) {
      if (::unlink(r.fn.c_str()) == 0) return;
      say("warning", "message has been bounced but not removed! unable to unlink " + r.fn + ": " + reactor::errno_text(errno));
    }
    dead_.insert(r.fn);
    return;
  }
  say("info", r.fn + (d.action == FileAction::kKeepFailed ? " failed: " : " failed temporarily: ") + why);
  dead_.insert(r.fn);
}

int Runner::run() {
  if (::chdir(o_.dir.c_str()) != 0) {
    say("fatal", "unable to chdir to " + o_.dir + ": " + reactor::errno_text(errno));
    return 111;
  }
  auto c = load_bounce_controls(queue::qmail_home());
  if (!c) {
    say("fatal", "unable to read controls: " + c.error().text);
    return 111;
  }
  controls_ = *c;
  int progress = 3;
  for (;;) {
    std::time_t now = std::time(nullptr);
    clean_maildir_tmp(now);
    auto files = scan_maildir(now);
    if (!files) {
      say("fatal", files.error().text);
      return 111;
    }
    std::string names;
    sent_.clear();
    for (const auto& f : *files)
      if (usable(f.name)) {
        names += f.name;
        names += '\0';
        sent_.insert(f.name);
      }
    if (sent_.empty()) return dead_.empty() ? 0 : 111;

    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
      say("fatal", "unable to create pipe: " + reactor::errno_text(errno));
      return 111;
    }
    reactor::ChildSpec spec;
    spec.argv = o_.client;
    spec.fds = {{0, in[0]}, {1, out[1]}};
    auto pid = reactor::spawn_child(spec);
    ::close(in[0]);
    ::close(out[1]);
    if (!pid) {
      ::close(in[1]);
      ::close(out[0]);
      say("fatal", "unable to run " + o_.client[0] + ": " + pid.error().text);
      return 111;
    }
    --progress;
    // Feed names and read reports at once, so neither pipe can stall the other.
    reactor::set_nonblock(in[1]);
    size_t off = 0;
    int wfd = in[1];
    ReportParser parser;
    for (;;) {
      if (wfd >= 0 && off == names.size()) {
        ::close(wfd);
        wfd = -1;
      }
      pollfd p[2] = {{out[0], POLLIN, 0}, {wfd, POLLOUT, 0}};
      if (::poll(p, wfd >= 0 ? 2 : 1, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (wfd >= 0 && p[1].revents) {
        ssize_t w = ::write(wfd, names.data() + off, names.size() - off);
        if (w > 0) off += static_cast<size_t>(w);
        else if (w < 0 && errno != EAGAIN && errno != EINTR) off = names.size();  // client stopped reading
      }
      if (p[0].revents) {
        char buf[4096];
        ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) break;
        parser.feed(std::string_view(buf, static_cast<size_t>(n)));
        while (auto r = parser.next()) {
          progress = 3;
          handle(*r);
        }
      }
    }
    if (wfd >= 0) ::close(wfd);
    ::close(out[0]);
    auto st = reactor::wait_child(*pid);
    if (!st) {
      say("fatal", "unable to get client status: " + st.error().text);
      return 111;
    }
    if (st->signaled) {
      say("fatal", "client crashed");
      return 111;
    }
    if (st->code == 100) return 100;  // the client has explained itself
    if (!progress) {
      say("fatal", "making no progress, giving up");
      return 111;
    }
  }
}

}  // namespace

std::optional<MaildirSerialOptions> parse_maildirserial_args(const std::vector<std::string>& args) {
  MaildirSerialOptions o;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    for (size_t j = 1; j < a.size(); ++j) {
      if (a[j] == 'b') {
        o.bounce = true;
      } else if (a[j] == 't') {
        std::string v = j + 1 < a.size() ? a.substr(j + 1) : (++i < args.size() ? args[i] : "");
        if (v.empty()) return std::nullopt;
        o.lifetime = std::strtoul(v.c_str(), nullptr, 10);  // scan_ulong: leading digits
        break;
      } else {
        return std::nullopt;
      }
    }
  }
  if (args.size() < i + 3) return std::nullopt;
  o.dir = args[i];
  o.prefix = args[i + 1];
  o.client.assign(args.begin() + static_cast<long>(i) + 2, args.end());
  return o;
}

int run_maildirserial(const MaildirSerialOptions& o) {
  std::signal(SIGPIPE, SIG_IGN);
  Runner r(o);
  return r.run();
}

}  // namespace smtp
