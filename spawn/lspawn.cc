// qmail-lspawn: spawn loop and delivery child (see lspawn.h).
#include "spawn/lspawn.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "queue/home.h"
#include "spawn/getpw.h"

namespace spawn {

// ---- pure pieces ---------------------------------------------------------

void OutputCollector::add(std::string_view bytes) {
  if (truncated_) return;
  text_.append(bytes);
  if (text_.size() > kTruncReport) {
    // Same cut as qmail: room for the note and a little slack.
    static constexpr std::string_view kNote = "\nError report too long, sorry.\n";
    text_.resize(kTruncReport - kNote.size() - 3);
    text_.append(kNote);
    truncated_ = true;
  }
}

std::string child_report(int wstat, std::string_view output) {
  if (!WIFEXITED(wstat)) return "Zqmail-local crashed.\n";
  std::string r;
  switch (WEXITSTATUS(wstat)) {
    // Codes of our own child (qlx.h) have fixed texts.
    case qlx::kCdb: return "ZTrouble reading users/cdb in qmail-lspawn.\n";
    case qlx::kNoMem: return "ZOut of memory in qmail-lspawn.\n";
    case qlx::kSys: return "ZTemporary failure in qmail-lspawn.\n";
    case qlx::kNoAlias: return "ZUnable to find alias user!\n";
    case qlx::kRoot: return "ZNot allowed to perform deliveries as root.\n";
    case qlx::kUsage: return "ZInternal qmail-lspawn bug.\n";
    case qlx::kNfs: return "ZNFS failure in qmail-local.\n";
    case qlx::kExecHard: return "DUnable to run qmail-local.\n";
    case qlx::kExecSoft: return "ZUnable to run qmail-local.\n";
    case qlx::kExecPw: return "ZUnable to run qmail-getpw.\n";
    // qmail-local's own codes [COMPAT]: replacements rely on this table.
    case 111: case 71: case 74: case 75: r = "Z"; break;
    case 0: r = "K"; break;
    default: r = "D"; break;
  }
  r.append(output.substr(0, output.find('\0')));
  return r;
}

std::optional<std::string> check_request(const Request& r, int slots, bool slot_busy) {
  if (r.slot >= slots) return std::string("ZInternal error: delnum too big. (#4.3.5)\n");
  if (slot_busy) return std::string("ZInternal error: delnum in use. (#4.3.5)\n");
  // The message name must be "S/N": digits with one inner slash. It is opened
  // relative to queue/mess, so anything else could escape the queue.
  size_t slash = r.mess.find('/');
  bool ok = slash != std::string::npos && slash != 0 && slash + 1 != r.mess.size() &&
            r.mess.find('/', slash + 1) == std::string::npos;
  for (size_t i = 0; ok && i < r.mess.size(); ++i)
    if (i != slash && (r.mess[i] < '0' || r.mess[i] > '9')) ok = false;
  if (r.mess.size() > 100) return std::string("DInternal error: messid too long. (#5.3.5)\n");
  if (r.mess.empty()) return std::string("DInternal error: messid too short. (#5.3.5)\n");
  if (!ok) return std::string("DInternal error: messid has nonnumerics. (#5.3.5)\n");
  if (r.recipient.rfind('@') == std::string::npos)
    return std::string("DSorry, address must include host name. (#5.1.3)\n");
  return std::nullopt;
}

std::vector<std::string> qmail_local_args(const UserEntry& u, std::string_view local, std::string_view domain,
                                          std::string_view sender, std::string_view defaultdelivery) {
  // [COMPAT] argument order of qmail-local, relied on by its replacements.
  return {"bin/qmail-local", "--", u.user, u.home, std::string(local), u.dash, u.ext,
          std::string(domain), std::string(sender), std::string(defaultdelivery)};
}

// ---- the delivery child --------------------------------------------------

Lookup find_user(const std::string& local) {
  Lookup out;
  auto r = lookup_users_cdb("users/cdb", local);
  if (!r) {
    out.qlx = qlx::kCdb;  // an unreadable users/cdb defers rather than guessing
    return out;
  }
  if (*r) {
    out.entry = std::move(**r);
    return out;
  }
  // No assignment: ask qmail-getpw, as qmailp, exactly like qmail does.
  int pi[2];
  if (::pipe2(pi, O_CLOEXEC) != 0) {
    out.qlx = qlx::kSys;
    return out;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pi[0]);
    ::close(pi[1]);
    out.qlx = qlx::kSys;
    return out;
  }
  if (pid == 0) {
    if (!queue::drop_to(queue::Account::qmailp, queue::Group::nofiles)) ::_exit(qlx::kUsage);
    if (::dup2(pi[1], 1) < 0) ::_exit(qlx::kSys);
    const char* argv[] = {"bin/qmail-getpw", local.c_str(), nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(qlx::kExecPw);
  }
  ::close(pi[1]);
  std::string text;
  bool read_ok = reactor::read_all(pi[0], text, 4096);
  ::close(pi[0]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) {
      out.qlx = qlx::kSys;
      return out;
    }
  }
  if (!WIFEXITED(st)) {
    out.qlx = qlx::kSys;
    return out;
  }
  if (WEXITSTATUS(st) != 0) {
    out.qlx = WEXITSTATUS(st);
    return out;
  }
  auto e = read_ok ? parse_user_fields(text) : std::nullopt;
  if (!e) {
    out.qlx = qlx::kUsage;
    return out;
  }
  out.entry = std::move(*e);
  return out;
}

void run_delivery_child(const ChildJob& job) {
  // Undo what the spawner's loop installed; qmail-local sets up its own.
  ::signal(SIGCHLD, SIG_DFL);
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  std::string local = job.recipient.substr(0, job.at);
  std::string domain = job.recipient.substr(job.at + 1);
  if (!queue::chdir_home()) ::_exit(qlx::kUsage);

  Lookup who = find_user(local);
  if (!who.entry) ::_exit(who.qlx ? who.qlx : qlx::kSys);
  const UserEntry& u = *who.entry;
  if (u.uid == 0) ::_exit(qlx::kRoot);

  if (::dup2(job.fd_mess, 0) < 0 || ::dup2(job.fd_out, 1) < 0 || ::dup2(1, 2) < 0) ::_exit(qlx::kSys);
  // setgid then setuid, no supplementary groups beyond gid (a no-op when the
  // whole tree runs as one unprivileged user).
  if (!queue::drop_to(static_cast<uid_t>(u.uid), static_cast<gid_t>(u.gid))) ::_exit(qlx::kUsage);
  if (::getuid() == 0) ::_exit(qlx::kRoot);

  auto args = qmail_local_args(u, local, domain, job.sender, job.defaultdelivery);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(errno_is_temporary(errno) ? qlx::kExecSoft : qlx::kExecHard);
}

// ---- the spawner loop ----------------------------------------------------

struct Lspawn::Slot {
  Slot(reactor::Loop& loop, reactor::Io::Callback cb) : io(loop, std::move(cb)) {}
  bool used = false;
  pid_t pid = -1;
  bool exited = false;
  bool eof = false;
  int wstat = 0;
  reactor::UniqueFd fd;  // read end of the child's output pipe
  reactor::Io io;
  std::unique_ptr<reactor::Child> child;  // replaced (not destroyed in its callback) on reuse
  OutputCollector output;
};

Lspawn::Lspawn(reactor::Loop& loop, std::string defaultdelivery, int in, int out, int slots)
    : loop_(loop), defaultdelivery_(std::move(defaultdelivery)), in_(in), out_(out), nslots_(slots),
      input_(loop, [this](int) { on_input(); }) {
  for (int i = 0; i < nslots_; ++i)
    slots_.push_back(std::make_unique<Slot>(loop, [this, i](int) { on_output(i); }));
  auto q = queue::account_uid(queue::Account::qmailq);
  qmailq_uid_ = q ? *q : static_cast<uid_t>(-1);
}

Lspawn::~Lspawn() = default;

void Lspawn::start() {
  // The hello byte: how many deliveries may run at once (conf-spawn).
  char hello = static_cast<char>(nslots_);
  if (!reactor::write_all(out_, std::string_view(&hello, 1))) writing_ = false;
  input_.start(in_, EV_READ);
}

bool Lspawn::finished() const {
  if (reading_) return false;
  for (const auto& s : slots_)
    if (s->used) return false;
  return true;
}

void Lspawn::check_done() {
  if (finished()) loop_.break_loop();
}

void Lspawn::send(std::uint8_t slot, const std::string& letter_and_text) {
  if (!writing_) return;
  Report r{slot, letter_and_text.empty() ? 'Z' : letter_and_text[0],
           letter_and_text.empty() ? std::string() : letter_and_text.substr(1)};
  // Reports are small; a blocking write keeps them whole. If qmail-send went
  // away, stop writing but let running deliveries finish.
  if (!reactor::write_all(out_, encode_report(r))) writing_ = false;
}

void Lspawn::on_input() {
  char buf[4096];
  ssize_t n = ::read(in_, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    reading_ = false;
    input_.stop();
    check_done();
    return;
  }
  decoder_.feed(std::string_view(buf, static_cast<size_t>(n)));
  while (auto r = decoder_.next()) handle(*r);
  if (decoder_.error()) {
    // A field beyond any sane size: the stream cannot be resynchronised.
    protocol_error_ = true;
    reading_ = false;
    input_.stop();
  }
  check_done();
}

void Lspawn::handle(const Request& r) {
  bool busy = r.slot < nslots_ && slots_[r.slot]->used;
  if (auto bad = check_request(r, nslots_, busy)) return send(r.slot, *bad);

  int fdmess = ::open(r.mess.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fdmess < 0) return send(r.slot, "Zqmail-spawn unable to open message. (#4.3.0)\n");
  reactor::UniqueFd mess(fdmess);
  struct stat st;
  if (::fstat(fdmess, &st) != 0) return send(r.slot, "Zqmail-spawn unable to fstat message. (#4.3.0)\n");
  if (!S_ISREG(st.st_mode)) return send(r.slot, "ZSorry, message has wrong type. (#4.3.5)\n");
  // qmailq must be trusted; a message owned by anyone else is not ours.
  if (st.st_uid != qmailq_uid_) return send(r.slot, "ZSorry, message has wrong owner. (#4.3.5)\n");

  size_t at = r.recipient.rfind('@');
  // Recipient "@domain": the trash address, delivered by doing nothing.
  if (at == 0) return send(r.slot, "K");

  int pi[2];
  if (::pipe2(pi, O_CLOEXEC) != 0) return send(r.slot, "Zqmail-spawn unable to create pipe. (#4.3.0)\n");
  ChildJob job{fdmess, pi[1], r.sender, r.recipient, at, defaultdelivery_};
  pid_t pid = ::fork();
  if (pid == 0) run_delivery_child(job);
  ::close(pi[1]);
  if (pid < 0) {
    ::close(pi[0]);
    return send(r.slot, "Zqmail-spawn unable to fork. (#4.3.0)\n");
  }
  Slot& s = *slots_[r.slot];
  s.used = true;
  s.pid = pid;
  s.exited = s.eof = false;
  s.wstat = 0;
  s.output.clear();
  s.fd.reset(pi[0]);
  reactor::set_nonblock(pi[0]);
  s.io.start(pi[0], EV_READ);
  int slot = r.slot;
  s.child = std::make_unique<reactor::Child>(loop_, pid, [this, slot](int, int wstat) { on_exit(slot, wstat); });
}

void Lspawn::on_output(int slot) {
  Slot& s = *slots_[slot];
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(s.fd.get(), buf, sizeof buf);
    if (n > 0) {
      s.output.add(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    // End of output (or a read error on a readable pipe, treated alike).
    s.eof = true;
    s.io.stop();
    s.fd.reset();
    maybe_report(slot);
    return;
  }
}

void Lspawn::on_exit(int slot, int wstat) {
  Slot& s = *slots_[slot];
  s.exited = true;
  s.wstat = wstat;
  maybe_report(slot);
}

void Lspawn::maybe_report(int slot) {
  Slot& s = *slots_[slot];
  // Report only when both the output is complete and the exit status known.
  if (!s.used || !s.eof || !s.exited) return;
  s.used = false;
  send(static_cast<std::uint8_t>(slot), child_report(s.wstat, s.output.text()));
  check_done();
}

}  // namespace spawn
