// Shared spawn loop (see spawner.h); mirrors qmail's spawn.c.
#include "spawn/spawner.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/home.h"

namespace spawn {

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

std::optional<std::string> check_request(const queue::proto::Request& r, int slots, bool slot_busy) {
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

unsigned slots_for_fds(unsigned long fd_limit, unsigned per_child) {
  // Kept for the spawner: stdio, the loop's own fds, the message being opened.
  constexpr unsigned long kReserved = 16;
  if (per_child == 0 || fd_limit <= kReserved) return 1;
  unsigned long n = (fd_limit - kReserved) / per_child;
  if (n < 1) n = 1;
  if (n > queue::proto::kMaxWideSlots) n = queue::proto::kMaxWideSlots;
  return static_cast<unsigned>(n);
}

unsigned long raise_fd_limit() {
  rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit want = rl;
    want.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
  }
  return rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : static_cast<unsigned long>(rl.rlim_cur);
}

struct Spawner::Slot {
  Slot(reactor::Loop& loop, reactor::Io::Callback cb) : io(loop, std::move(cb)) {}
  bool used = false;
  bool exited = false;
  bool eof = false;
  int wstat = 0;
  reactor::UniqueFd fd;  // read end of the child's output pipe
  reactor::Io io;
  std::unique_ptr<reactor::Child> child;  // replaced (not destroyed in its callback) on reuse
  OutputCollector output;
};

Spawner::Spawner(reactor::Loop& loop, Channel& ch, unsigned slots, bool wide, int in, int out)
    : loop_(loop), ch_(ch), nslots_(slots), wide_(wide), in_(in), out_(out),
      input_(loop, [this](int) { on_input(); }), decoder_(wide) {
  for (unsigned i = 0; i < nslots_; ++i)
    slots_.push_back(std::make_unique<Slot>(loop, [this, i](int) { on_output(i); }));
  auto q = queue::account_uid(queue::Account::qmailq);
  qmailq_uid_ = q ? *q : static_cast<uid_t>(-1);
}

Spawner::~Spawner() = default;

void Spawner::start() {
  if (!reactor::write_all(out_, queue::proto::encode_hello(nslots_, wide_))) writing_ = false;
  input_.start(in_, EV_READ);
}

bool Spawner::finished() const { return !reading_ && busy_ == 0; }

void Spawner::check_done() {
  if (finished()) loop_.break_loop();
}

void Spawner::send(unsigned slot, const std::string& letter_and_text) {
  if (!writing_) return;
  queue::proto::Report r{static_cast<std::uint16_t>(slot), letter_and_text.empty() ? 'Z' : letter_and_text[0],
                         letter_and_text.empty() ? std::string() : letter_and_text.substr(1)};
  // Reports are small; a blocking write keeps them whole. If qmail-send went
  // away, stop writing but let running deliveries finish.
  if (!reactor::write_all(out_, queue::proto::encode_report(r, wide_))) writing_ = false;
}

void Spawner::on_input() {
  char buf[16384];
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

void Spawner::handle(const queue::proto::Request& r) {
  bool busy = r.slot < nslots_ && slots_[r.slot]->used;
  if (auto bad = check_request(r, static_cast<int>(nslots_), busy)) return send(r.slot, *bad);

  int fdmess = ::open(r.mess.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fdmess < 0) return send(r.slot, "Zqmail-spawn unable to open message. (#4.3.0)\n");
  reactor::UniqueFd mess(fdmess);
  struct stat st;
  if (::fstat(fdmess, &st) != 0) return send(r.slot, "Zqmail-spawn unable to fstat message. (#4.3.0)\n");
  if (!S_ISREG(st.st_mode)) return send(r.slot, "ZSorry, message has wrong type. (#4.3.5)\n");
  // qmailq must be trusted; a message owned by anyone else is not ours.
  if (st.st_uid != qmailq_uid_) return send(r.slot, "ZSorry, message has wrong owner. (#4.3.5)\n");
  if (auto quick = ch_.shortcut(r)) return send(r.slot, *quick);

  int pi[2];
  if (::pipe2(pi, O_CLOEXEC) != 0) return send(r.slot, "Zqmail-spawn unable to create pipe. (#4.3.0)\n");
  pid_t pid = ch_.launch(r, fdmess, pi[1]);
  ::close(pi[1]);
  if (pid < 0) {
    ::close(pi[0]);
    return send(r.slot, "Zqmail-spawn unable to fork. (#4.3.0)\n");
  }
  Slot& s = *slots_[r.slot];
  s.used = true;
  ++busy_;
  s.exited = s.eof = false;
  s.wstat = 0;
  s.output.clear();
  s.fd.reset(pi[0]);
  reactor::set_nonblock(pi[0]);
  s.io.start(pi[0], EV_READ);
  unsigned slot = r.slot;
  s.child = std::make_unique<reactor::Child>(loop_, pid, [this, slot](int, int wstat) { on_exit(slot, wstat); });
}

void Spawner::on_output(unsigned slot) {
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
    s.eof = true;
    s.io.stop();
    s.fd.reset();
    maybe_report(slot);
    return;
  }
}

void Spawner::on_exit(unsigned slot, int wstat) {
  Slot& s = *slots_[slot];
  s.exited = true;
  s.wstat = wstat;
  maybe_report(slot);
}

void Spawner::maybe_report(unsigned slot) {
  Slot& s = *slots_[slot];
  // Report only when both the output is complete and the exit status known.
  if (!s.used || !s.eof || !s.exited) return;
  s.used = false;
  --busy_;
  send(slot, ch_.report(s.wstat, s.output.text()));
  check_done();
}

}  // namespace spawn
