// The qmail-local delivery engine (see local.h).
//
// Maildir deliveries run in this process (queue::maildir_deliver opens the
// directory instead of chdir'ing into it and uses bounded, collision-free
// names), so no child and no 24-hour alarm are needed; programs run in a child
// through /bin/sh -c as qmail does.
#include "spawn/local.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reactor/fd.h"
#include "queue/home.h"
#include "queue/maildir.h"
#include "queue/qq.h"
#include "spawn/dot_qmail.h"
#include "spawn/mbox.h"

namespace spawn {

namespace {

// Errors that mean "this file is simply not there"; any other error opening a
// .qmail candidate defers the delivery rather than risk a wrong bounce.
bool absent(int err) { return err == ENOENT || err == ENOTDIR || err == ELOOP || err == ENAMETOOLONG; }

reactor::Error open_error(const std::string& name, int err) {
  return reactor::temp_error("Unable to open " + name + ": " + reactor::errno_text(err) + ". (#4.3.0)");
}

}  // namespace

bool HeaderLineScan::feed(std::string_view chunk) {
  if (done_) return true;
  if (chunk.empty()) {  // end of input: a last line without newline is not header
    done_ = true;
    return true;
  }
  size_t start = 0;
  for (;;) {
    size_t nl = chunk.find('\n', start);
    if (nl == std::string_view::npos) break;
    partial_.append(chunk.substr(start, nl + 1 - start));
    start = nl + 1;
    if (partial_.size() <= 1) {  // the empty line ends the header
      done_ = true;
      return true;
    }
    if (partial_ == want_) {
      found_ = done_ = true;
      return true;
    }
    partial_.clear();
  }
  // A line longer than the wanted one can never match; keep only its length.
  partial_.append(chunk.substr(start));
  if (partial_.size() > want_.size() + 1) partial_.resize(want_.size() + 1);
  return false;
}

ProgramOutcome program_outcome(int st) {
  if (!WIFEXITED(st)) return ProgramOutcome::crashed;
  switch (WEXITSTATUS(st)) {
    case 0: return ProgramOutcome::ok;
    case 99: return ProgramOutcome::ok_stop;
    case 100: case 64: case 65: case 70: case 76: case 77: case 78: case 112:
      return ProgramOutcome::permanent;
    default: return ProgramOutcome::temporary;
  }
}

int LocalDelivery::run() {
  reactor::Status s = deliver();
  if (s.ok()) {
    std::string did = "did " + std::to_string(files_) + "+" + std::to_string(forwards_) + "+" +
                      std::to_string(programs_) + "\n";
    if (qp_ > 0) did += "qp " + std::to_string(qp_) + "\n";
    reactor::write_all(out_, did);
    return 0;
  }
  // A failing program has already said why on our stdout/stderr.
  if (!s.error().text.empty()) reactor::write_all(err_, s.error().text + "\n");
  return s.error().temporary ? 111 : 100;
}

reactor::Status LocalDelivery::check_home() {
  struct stat st;
  if (::stat(".", &st) != 0)
    return reactor::temp_error("Unable to stat home directory: " + reactor::errno_text(errno) + ". (#4.3.0)");
  if (st.st_mode & queue::kConfPatrn) return reactor::temp_error("Uh-oh: home directory is writable. (#4.7.0)");
  if (st.st_mode & S_ISVTX) {
    // The documented way to edit .qmail files safely: chmod +t $HOME.
    if (doit_) return reactor::temp_error("Home directory is sticky: user is editing his .qmail file. (#4.2.1)");
    reactor::write_all(err_, "Warning: home directory is sticky.\n");
  }
  return {};
}

reactor::Status LocalDelivery::rewind() {
  if (::lseek(msgfd_, 0, SEEK_SET) != 0) return reactor::temp_error("Unable to rewind message. (#4.3.0)");
  return {};
}

reactor::Status LocalDelivery::check_loop(const std::string& dtline) {
  if (auto s = rewind(); !s) return s;
  HeaderLineScan scan(dtline);
  char buf[16384];
  for (;;) {
    ssize_t r = reactor::read_some(msgfd_, buf, sizeof buf);
    if (r < 0) return reactor::temp_error("Unable to read message: " + reactor::errno_text(errno) + ". (#4.3.0)");
    if (scan.feed(std::string_view(buf, static_cast<size_t>(r)))) break;
  }
  if (scan.found())
    return reactor::perm_error("This message is looping: it already has my Delivered-To line. (#5.4.6)");
  return {};
}

reactor::Status LocalDelivery::find_file(std::string& text, bool& forward_only, bool& found) {
  found = false;
  for (const Candidate& c : qmail_candidates(a_.dash, a_.ext)) {
    reactor::UniqueFd fd(::open(c.name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) {
      if (absent(errno)) continue;
      return open_error(c.name, errno);
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return open_error(c.name, errno);
    if (!S_ISREG(st.st_mode)) continue;
    if (st.st_mode & queue::kConfPatrn) return reactor::temp_error("Uh-oh: .qmail file is writable. (#4.7.0)");
    forward_only = (st.st_mode & S_IXUSR) != 0;
    if (c.default_at && *c.default_at <= a_.ext.size())
      ::setenv("DEFAULT", a_.ext.c_str() + *c.default_at, 1);
    text.clear();
    if (!reactor::read_all(fd.get(), text, 16u << 20))
      return reactor::temp_error("Unable to read " + c.name + ": " + reactor::errno_text(errno) + ". (#4.3.0)");
    found = true;
    return {};
  }
  return {};
}

reactor::Status LocalDelivery::owner_exists(const std::string& name, bool& exists) {
  struct stat st;
  exists = ::stat(name.c_str(), &st) == 0;
  if (!exists && !absent(errno) && errno != EACCES) return open_error(name, errno);
  return {};
}

reactor::Status LocalDelivery::deliver() {
  if (::chdir(a_.homedir.c_str()) != 0)
    return reactor::temp_error("Unable to switch to " + a_.homedir + ": " + reactor::errno_text(errno) +
                               ". (#4.3.0)");
  if (auto s = check_home(); !s) return s;
  dtline_ = dt_line(a_.local, a_.host);
  if (doit_)
    if (auto s = check_loop(dtline_); !s) return s;

  std::string text;
  bool forward_only = false, found = false;
  if (auto s = find_file(text, forward_only, found); !s) return s;
  if (!found && !a_.dash.empty()) return reactor::perm_error("Sorry, no mailbox here by that name. (#5.1.1)");

  // NEWSENDER: the list-owner rule looks at the full extension (3.7).
  bool owner = false, owner_default = false;
  if (!a_.sender.empty() && a_.sender != "#@[]") {
    if (auto s = owner_exists(qmail_owner_name(a_.dash, a_.ext, "-owner"), owner); !s) return s;
    if (owner)
      if (auto s = owner_exists(qmail_owner_name(a_.dash, a_.ext, "-owner-default"), owner_default); !s)
        return s;
  }
  std::string newsender = new_sender(a_.local, a_.host, a_.sender, owner, owner_default);
  // Programs, and the qmail-queue started for forwards, inherit these.
  std::time_t now = std::time(nullptr);
  for (const auto& [k, v] : local_env(a_, newsender, now)) ::setenv(k.c_str(), v.c_str(), 1);
  rpline_ = rp_line(a_.sender);
  ufline_ = uf_line(a_.sender, now);

  if (text.empty()) {
    text = a_.defaultdelivery;
    forward_only = false;
  }
  std::vector<std::string> rcpts;
  for (const Instruction& in : parse_dot_qmail(text, forward_only)) {
    bool stop = false;
    switch (in.kind) {
      case LineKind::comment:
        break;
      case LineKind::fail:
        return reactor::temp_error(in.arg);
      case LineKind::maildir:
      case LineKind::mbox: {
        ++files_;
        if (!doit_) {
          say(to_string(in.kind), in.arg);
          break;
        }
        if (auto s = rewind(); !s) return s;
        if (in.kind == LineKind::maildir) {
          auto r = queue::maildir_deliver(in.arg, rpline_ + dtline_, msgfd_);
          if (!r) return r.error();
        } else {
          if (auto s = mbox_deliver(in.arg, ufline_ + rpline_ + dtline_, msgfd_); !s) return s;
        }
        break;
      }
      case LineKind::program:
        ++programs_;
        if (!doit_) {
          say("program", in.arg);
          break;
        }
        if (auto s = run_program(in.arg, stop); !s) return s;
        break;
      case LineKind::forward:
        ++forwards_;
        if (!doit_) say("forward", in.arg);
        else rcpts.push_back(in.arg);
        break;
    }
    if (stop) break;  // exit 99: the rest of the file is ignored
  }
  if (!rcpts.empty()) return forward(rcpts, newsender);
  return {};
}

void LocalDelivery::say(std::string_view kind, std::string_view what) {
  reactor::write_all(out_, std::string(kind) + " " + std::string(what) + "\n");
}

reactor::Status LocalDelivery::run_program(const std::string& command, bool& stop) {
  if (auto s = rewind(); !s) return s;
  pid_t pid = ::fork();
  if (pid < 0) return reactor::temp_error("Unable to fork: " + reactor::errno_text(errno) + ". (#4.3.0)");
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_DFL);
    if (msgfd_ != 0) ::dup2(msgfd_, 0);
    ::execl("/bin/sh", "/bin/sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    std::string t = "Unable to run /bin/sh: " + reactor::errno_text(errno) + ". (#4.3.0)\n";
    reactor::write_all(err_, t);
    ::_exit(111);
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) return reactor::temp_error("Aack, child crashed. (#4.3.0)");
  }
  switch (program_outcome(st)) {
    case ProgramOutcome::ok: return {};
    case ProgramOutcome::ok_stop: stop = true; return {};
    // The program's own output is the report; qmail adds nothing.
    case ProgramOutcome::permanent: return reactor::perm_error("");
    case ProgramOutcome::temporary: return reactor::temp_error("");
    case ProgramOutcome::crashed: return reactor::temp_error("Aack, child crashed. (#4.3.0)");
  }
  return {};
}

reactor::Status LocalDelivery::forward(const std::vector<std::string>& rcpts, const std::string& sender) {
  if (auto s = rewind(); !s) return s;
  queue::QueueClient qq;
  if (auto s = qq.start(); !s) return reactor::temp_error("Unable to fork: " + s.error().text + ". (#4.3.0)");
  qp_ = qq.pid();
  qq.put(dtline_);
  qq.put_fd(msgfd_);
  qq.from(sender);
  for (const auto& r : rcpts) qq.to(r);
  if (auto s = qq.finish(); !s) return reactor::Error{s.error().temporary, "Unable to forward message: " + s.error().text + "."};
  return {};
}

}  // namespace spawn
