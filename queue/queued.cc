// qmail-queued's loop (see queued.h).
#include "queue/queued.h"

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <sys/socket.h>
#include <unistd.h>

#include "queue/qq.h"

namespace queue {

struct QueueDaemon::Conn {
  enum class Phase { header, body, envelope, waiting, done };
  Conn(QueueDaemon& d, std::uint64_t i, int f)
      : id(i), fd(f), io(d.loop_, [&d, this](int) { d.on_read(*this); }),
        death(d.loop_, [&d, this] { d.answer(*this, qq_exit::kTimeout); }) {}
  std::uint64_t id;
  reactor::UniqueFd fd;
  reactor::Io io;
  reactor::Timer death;
  std::unique_ptr<QueueFiles> files;
  Phase phase = Phase::header;
  unsigned char head[4];
  size_t head_have = 0;
  size_t body_left = 0;
};

QueueDaemon::QueueDaemon(reactor::Loop& loop, Syncer& syncer, QueuedConfig cfg)
    : loop_(loop), syncer_(syncer), cfg_(std::move(cfg)), accept_io_(loop, [this](int) { on_accept(); }),
      reaper_(loop, [this] { reap(); }) {}

QueueDaemon::~QueueDaemon() { shutdown(); }

void QueueDaemon::listen(int fd) {
  listen_fd_ = fd;
  accept_io_.start(fd, EV_READ);
}

void QueueDaemon::shutdown() {
  accept_io_.stop();
  for (auto& [id, c] : conns_) {
    c->io.stop();
    c->death.stop();
    c->files.reset();  // removes what it made: nothing was acknowledged
  }
  conns_.clear();
  ready_.clear();
  dead_.clear();
}

void QueueDaemon::on_accept() {
  for (int n = 0; n < 64; ++n) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;  // EAGAIN, or a caller that left: the backlog stays armed
    reactor::UniqueFd sock(fd);
    struct ucred cred = {};
    socklen_t len = sizeof cred;
    bool ok = conns_.size() < cfg_.max_conns && (!cfg_.ready || cfg_.ready()) &&
              ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0;
    std::unique_ptr<QueueFiles> files;
    if (ok) {
      // Anything qmail-queue would fail on before reading a byte sends the
      // caller to qmail-queue, which then reports it with its own exit code.
      auto extra = cfg_.extra ? cfg_.extra() : reactor::Result<std::string>(std::string());
      if (extra) {
        QueueJob job;
        job.uid = cred.uid;
        job.pid = static_cast<unsigned long>(cred.pid);
        job.now = std::time(nullptr);
        job.how = received_how(cred.uid, cfg_.alias, cfg_.qmaild, cfg_.qmails);
        job.extra = std::move(*extra);
        job.split = cfg_.split;
        job.pidfile_pid = cfg_.own_pid ? cfg_.own_pid : static_cast<unsigned long>(::getpid());
        files = std::make_unique<QueueFiles>(cfg_.queue_dirfd, std::move(job));
        if (files->open() != 0) files.reset();
      }
      ok = files != nullptr;
    }
    char greeting = ok ? 'Y' : 'N';
    if (::send(fd, &greeting, 1, MSG_NOSIGNAL) != 1 || !ok) continue;
    std::uint64_t id = next_id_++;
    auto c = std::make_unique<Conn>(*this, id, sock.release());
    c->files = std::move(files);
    Conn* cp = c.get();
    conns_.emplace(id, std::move(c));
    cp->io.start(cp->fd.get(), EV_READ);
    cp->death.start(cfg_.death);
  }
}

void QueueDaemon::on_read(Conn& c) {
  char buf[kQueuedFrame];
  ssize_t r = ::read(c.fd.get(), buf, sizeof buf);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (r <= 0) {
    // The caller went away (or broke the socket) before the end: nothing
    // was acknowledged, so nothing is kept.
    drop(c);
    return;
  }
  feed(c, std::string_view(buf, static_cast<size_t>(r)));
}

void QueueDaemon::feed(Conn& c, std::string_view in) {
  while (!in.empty() && c.phase != Conn::Phase::waiting && c.phase != Conn::Phase::done) {
    int code = 0;
    switch (c.phase) {
      case Conn::Phase::header: {
        size_t n = std::min(in.size(), 4 - c.head_have);
        for (size_t i = 0; i < n; ++i) c.head[c.head_have++] = static_cast<unsigned char>(in[i]);
        in.remove_prefix(n);
        if (c.head_have < 4) break;
        c.head_have = 0;
        size_t len = (size_t{c.head[0]} << 24) | (size_t{c.head[1]} << 16) | (size_t{c.head[2]} << 8) | c.head[3];
        if (len > kQueuedFrame) {
          code = qq_exit::kRead;  // not our protocol
        } else if (len == 0) {
          code = c.files->end_message();
          c.phase = Conn::Phase::envelope;
        } else {
          c.body_left = len;
          c.phase = Conn::Phase::body;
        }
        break;
      }
      case Conn::Phase::body: {
        size_t n = std::min(in.size(), c.body_left);
        code = c.files->write_message(in.substr(0, n));
        in.remove_prefix(n);
        c.body_left -= n;
        if (c.body_left == 0) c.phase = Conn::Phase::header;
        break;
      }
      case Conn::Phase::envelope: {
        size_t used = 0;
        code = c.files->write_envelope(in, &used);
        in.remove_prefix(used);
        if (code == 0 && c.files->envelope_status() != EnvelopeParser::Status::more) {
          code = c.files->end_envelope();
          if (code == 0) {
            // Written; durable with the next group commit. Bytes after the
            // envelope are ignored, as qmail-queue never reads them.
            c.phase = Conn::Phase::waiting;
            c.io.stop();
            c.death.stop();  // its descriptors belong to the batch now
            ready_.push_back(c.id);
            kick_sync();
            return;
          }
        }
        break;
      }
      case Conn::Phase::waiting:
      case Conn::Phase::done:
        break;
    }
    if (code != 0) {
      answer(c, code);
      return;
    }
  }
}

void QueueDaemon::kick_sync() {
  if (syncing_ || ready_.empty()) return;
  std::vector<std::uint64_t> batch;
  batch.swap(ready_);
  std::vector<int> fds;
  for (std::uint64_t id : batch) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    fds.push_back(it->second->files->mess_fd());
    fds.push_back(it->second->files->intd_fd());
  }
  syncing_ = true;
  syncer_.sync(std::move(fds), [this, batch](bool ok) mutable { synced(std::move(batch), ok); });
}

void QueueDaemon::synced(std::vector<std::uint64_t> ids, bool ok) {
  syncing_ = false;
  bool any = false;
  for (std::uint64_t id : ids) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    Conn& c = *it->second;
    int code = ok ? c.files->commit() : qq_exit::kWrite;
    if (code == 0) {
      any = true;
      ++queued_;
    }
    answer(c, code);
  }
  if (any) pull_trigger(cfg_.queue_dirfd);
  kick_sync();
}

void QueueDaemon::answer(Conn& c, int code) {
  unsigned char b = static_cast<unsigned char>(code);
  // The caller waits for this byte with an empty socket buffer: it fits.
  [[maybe_unused]] ssize_t w = ::send(c.fd.get(), &b, 1, MSG_NOSIGNAL);
  drop(c);
}

void QueueDaemon::drop(Conn& c) {
  c.phase = Conn::Phase::done;
  c.io.stop();
  c.death.stop();
  c.files.reset();  // after commit() a no-op; before it, the files go
  auto it = conns_.find(c.id);
  if (it == conns_.end()) return;
  // Freed outside the callback that is running on it.
  dead_.push_back(std::move(it->second));
  conns_.erase(it);
  reaper_.start(0);
}

void QueueDaemon::reap() { dead_.clear(); }

}  // namespace queue
