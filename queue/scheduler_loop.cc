// qmail-send's libev driver (see scheduler_loop.h): real implementations of
// the scheduler's Clock, Spawner, CleanService and BounceInjector over the pipes
// that qmail-start set up, and the loop that pumps the scheduler.
#include "queue/scheduler_loop.h"

#include <cerrno>
#include <ctime>
#include <csignal>
#include <fcntl.h>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <poll.h>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>

#include "queue/qq.h"
#include "queue/scheduler.h"
#include "reactor/fd.h"
#include "reactor/loop.h"

namespace queue {
namespace {

constexpr int kLogFd = 0;
constexpr int kChanOut[2] = {1, 3};
constexpr int kChanIn[2] = {2, 4};
constexpr int kCleanOut = 5, kCleanIn = 6;
// Bounded work per loop iteration (fairness): at most this many steps, and
// no new step once this much time has gone, so that the report pipes are
// read between todo files (each costs fsyncs) and free slots refill at once.
constexpr int kMaxStepsPerTick = 64;
constexpr long kMaxTickNanos = 2'000'000;
constexpr size_t kLogBuffer = 16384;  // log bytes held at most before a write

class SystemClock : public Clock {
 public:
  std::time_t now() override { return ::time(nullptr); }
};

// The spawn pipes: one request buffered per channel, written without
// blocking; reports decoded incrementally.
class PipeSpawner : public Spawner {
 public:
  // A spawner that offered more than 255 slots speaks the wide form.
  PipeSpawner(reactor::Loop& loop, const unsigned cap[2])
      : wide_{cap[0] > 255, cap[1] > 255}, dec_{proto::ReportDecoder(wide_[0]), proto::ReportDecoder(wide_[1])} {
    for (int c = 0; c < 2; ++c) {
      reactor::set_nonblock(kChanOut[c]);
      reactor::set_nonblock(kChanIn[c]);
      wio_[c] = std::make_unique<reactor::Io>(loop, [this, c](int) { flush(c); });
      rio_[c] = std::make_unique<reactor::Io>(loop, [this, c](int) { readable(c); });
      rio_[c]->start(kChanIn[c], EV_READ);
    }
  }
  Scheduler* sched = nullptr;
  std::function<void()> after;  ///< runs after reports were handled
  bool alive(int c) const override { return alive_[c]; }
  bool can_write(int c) const override { return alive_[c] && wbuf_[c].empty(); }
  void send(int c, const queue::proto::Request& r) override {
    wbuf_[c] = proto::encode_request(r, wide_[c]);
    flush(c);
  }

 private:
  void flush(int c) {
    while (!wbuf_[c].empty()) {
      ssize_t w = ::write(kChanOut[c], wbuf_[c].data(), wbuf_[c].size());
      if (w > 0) {
        wbuf_[c].erase(0, static_cast<size_t>(w));
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) {
        if (!wio_[c]->active()) wio_[c]->start(kChanOut[c], EV_WRITE);
        return;
      }
      lost(c);
      return;
    }
    wio_[c]->stop();
  }
  void readable(int c) {
    char buf[4096];
    ssize_t r = ::read(kChanIn[c], buf, sizeof buf);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (r <= 0) return lost(c);
    dec_[c].feed(std::string_view(buf, static_cast<size_t>(r)));
    while (auto rep = dec_[c].next()) sched->on_report(c, *rep);
    after();
  }
  void lost(int c) {
    alive_[c] = false;
    wbuf_[c].clear();
    wio_[c]->stop();
    rio_[c]->stop();
    sched->spawn_lost(c);
    after();
  }
  bool wide_[2];
  bool alive_[2] = {true, true};
  std::string wbuf_[2];
  queue::proto::ReportDecoder dec_[2];
  std::unique_ptr<reactor::Io> wio_[2], rio_[2];
};

// qmail-clean answers each request with one byte, in order. Requests are
// written at once (a whole batch in one write) and the answers read as they
// come, so the loop never waits for qmail-clean's unlinks.
class PipeCleaner : public CleanService {
 public:
  explicit PipeCleaner(reactor::Loop& loop)
      : io_(loop, [this](int) {
          readable();
          if (after) after();
        }) {
    reactor::set_nonblock(kCleanIn);
    io_.start(kCleanIn, EV_READ);
  }
  std::function<void()> after;  ///< runs after answers were handed back
  int clean(const std::string& req) override {
    std::vector<int> r = clean_many({req});
    return r.empty() ? -1 : r[0];
  }
  // Synchronous: waits for every answer (and any still owed to earlier requests).
  std::vector<int> clean_many(const std::vector<std::string>& reqs) override {
    std::vector<int> out;
    bool finished = false;
    clean_async(reqs, [&](std::vector<int> r) { out = std::move(r); finished = true; });
    while (!finished && alive_) {
      struct pollfd p = {kCleanIn, POLLIN, 0};
      if (::poll(&p, 1, -1) < 0 && errno != EINTR) lost();
      else readable();
    }
    return out;
  }
  void clean_async(std::vector<std::string> reqs, std::function<void(std::vector<int>)> done) override {
    if (!alive_) return done({});
    std::string msg;
    for (const std::string& r : reqs) {
      msg += r;
      msg += '\0';
    }
    if (!reactor::write_all(kCleanOut, msg)) {
      lost();
      return done({});
    }
    waiting_.push_back(Waiting{reqs.size(), {}, std::move(done)});
  }

 private:
  struct Waiting {
    size_t want;
    std::vector<int> got;
    std::function<void(std::vector<int>)> done;
  };
  void readable() {
    char buf[512];
    ssize_t r = ::read(kCleanIn, buf, sizeof buf);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (r <= 0) return lost();
    for (ssize_t i = 0; i < r; ++i) {
      if (waiting_.empty()) break;  // an answer nobody asked for
      Waiting& w = waiting_.front();
      w.got.push_back(buf[i] == '+' ? 1 : 0);
      if (w.got.size() == w.want) {
        Waiting fin = std::move(w);
        waiting_.pop_front();
        fin.done(std::move(fin.got));
      }
    }
  }
  // Every request still owed an answer gets what came (the scheduler dies then).
  void lost() {
    alive_ = false;
    io_.stop();
    std::deque<Waiting> w;
    w.swap(waiting_);
    for (Waiting& x : w) x.done(std::move(x.got));
  }
  reactor::Io io_;
  bool alive_ = true;
  std::deque<Waiting> waiting_;
};

class QqInjector : public BounceInjector {
 public:
  reactor::Result<long> inject(const std::string& sender, const std::string& recipient,
                               const std::string& head, const std::string& mess_path,
                               const std::string& tail) override {
    QueueClient qq;
    auto st = qq.start();
    if (!st) return st.error();
    long qp = qq.pid();
    qq.put(head);
    reactor::UniqueFd fd(::open(mess_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return reactor::temp_error("unable to open " + mess_path);
    qq.put_fd(fd.get());
    qq.put(tail);
    qq.from(sender);
    qq.to(recipient);
    auto done = qq.finish();
    if (!done) return done.error();
    return qp;
  }
};

class SendLoop {
 public:
  SendLoop(Controls controls, std::string control_dir, const unsigned cap[2])
      : control_dir_(std::move(control_dir)),
        log_([this](std::string_view s) {
          log_buf_ += s;
          if (log_buf_.size() >= kLogBuffer) flush_log();
        }),
        spawner_(loop_, cap),
        cleaner_(loop_),
        syncer_(loop_),
        offload_(loop_),
        sched_(SchedulerWorld{&clock_, &spawner_, &cleaner_, &injector_, &log_, ".", &syncer_, &offload_},
               std::move(controls), cap),
        trigger_io_(loop_, [this](int) { on_trigger(); }),
        timer_(loop_, [this] { pump(); }),
        term_(loop_, SIGTERM, [this] { sched_.exit_asap(); pump(); }),
        alrm_(loop_, SIGALRM, [this] { sched_.run_now(); pump(); }),
        hup_(loop_, SIGHUP, [this] { reread(); pump(); }) {
    spawner_.sched = &sched_;
    spawner_.after = [this] { pump(); };
    syncer_.set_after([this] { pump(); });
    offload_.set_after([this] { pump(); });
    cleaner_.after = [this] { pump(); };
  }

  int run() {
    open_trigger();
    sched_.startup_scan();
    sched_.log_status();
    pump();
    loop_.run();
    return 0;
  }

 private:
  void open_trigger() {
    // Our own writer keeps the fifo from reporting EOF forever once a
    // qmail-queue has closed its end.
    trigger_r_.reset(::open("lock/trigger", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    trigger_w_.reset(::open("lock/trigger", O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (trigger_r_.valid()) trigger_io_.start(trigger_r_.get(), EV_READ);
  }
  void on_trigger() {
    char buf[256];
    while (::read(trigger_r_.get(), buf, sizeof buf) > 0) {}
    sched_.trigger();
    pump();
  }
  void reread() {
    auto c = load_controls(control_dir_);
    if (!c) {
      log_.line("alert: unable to reread controls: " + c.error().text);
      return;
    }
    sched_.set_controls(std::move(*c));
  }
  void pump() {
    if (done_) return;
    int n = 0;
    struct timespec t0, t1;
    ::clock_gettime(CLOCK_MONOTONIC, &t0);
    bool more = true;
    while (n < kMaxStepsPerTick && (more = sched_.step())) {
      ++n;
      ::clock_gettime(CLOCK_MONOTONIC, &t1);
      if ((t1.tv_sec - t0.tv_sec) * 1'000'000'000L + (t1.tv_nsec - t0.tv_nsec) >= kMaxTickNanos) break;
    }
    if (sched_.exiting()) {
      trigger_io_.stop();
      if (sched_.can_exit()) {
        sched_.finish();
        log_.line("status: exiting");
        flush_log();
        done_ = true;
        timer_.stop();
        loop_.break_loop();
        return;
      }
    }
    flush_log();
    std::time_t w = sched_.next_wakeup();
    double after = more ? 0 : static_cast<double>(w) - ev_time() + 0.01;
    if (after < 0) after = 0;
    timer_.start(after);
  }

  // Log lines of one pass of the loop go out in one write, at its end.
  void flush_log() {
    if (log_buf_.empty()) return;
    reactor::write_all(kLogFd, log_buf_);
    log_buf_.clear();
  }

  std::string control_dir_;
  reactor::Loop loop_;
  std::string log_buf_;
  SendLog log_;
  SystemClock clock_;
  PipeSpawner spawner_;
  PipeCleaner cleaner_;
  QqInjector injector_;
  ThreadSyncer syncer_;
  ThreadOffload offload_;
  Scheduler sched_;
  reactor::UniqueFd trigger_r_, trigger_w_;
  reactor::Io trigger_io_;
  reactor::Timer timer_;
  reactor::Signal term_, alrm_, hup_;
  bool done_ = false;
};

}  // namespace

int run_send_loop(Controls controls, const std::string& control_dir, const unsigned spawn_cap[2]) {
  SendLoop l(std::move(controls), control_dir, spawn_cap);
  return l.run();
}

}  // namespace queue
