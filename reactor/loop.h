#pragma once
// RAII wrappers over libev: the loop and io, timer, signal and child
// watchers. A watcher's destructor stops it; callbacks are std::function so
// owners bind them to member functions. No exception may leave a callback.

#include <functional>
#include <utility>

#include <ev.h>

namespace reactor {

/// The process's default libev loop (child watchers need the default loop).
class Loop {
 public:
  Loop() : loop_(ev_default_loop(EVFLAG_AUTO)) {}
  struct ev_loop* raw() const { return loop_; }
  /// Runs until no active watcher remains or break_loop() is called.
  void run() { ev_run(loop_, 0); }
  /// One iteration, blocking for events if `wait`.
  void run_once(bool wait = true) { ev_run(loop_, wait ? EVRUN_ONCE : EVRUN_NOWAIT); }
  void break_loop() { ev_break(loop_, EVBREAK_ALL); }
  /// The loop's cached time in seconds.
  double now() const { return ev_now(loop_); }
  void update_now() { ev_now_update(loop_); }

 private:
  struct ev_loop* loop_;
};

/// Readiness of one file descriptor.
class Io {
 public:
  using Callback = std::function<void(int revents)>;
  Io(Loop& loop, Callback cb) : loop_(loop.raw()), cb_(std::move(cb)) {
    ev_init(&w_, &Io::thunk);
    w_.data = this;
  }
  ~Io() { stop(); }
  Io(const Io&) = delete;
  Io& operator=(const Io&) = delete;
  /// (Re)arms for `fd` and `events` (EV_READ, EV_WRITE).
  void start(int fd, int events) {
    stop();
    ev_io_set(&w_, fd, events);
    ev_io_start(loop_, &w_);
  }
  void stop() { ev_io_stop(loop_, &w_); }
  bool active() const { return ev_is_active(&w_); }

 private:
  static void thunk(struct ev_loop*, ev_io* w, int revents) { static_cast<Io*>(w->data)->cb_(revents); }
  struct ev_loop* loop_;
  ev_io w_;
  Callback cb_;
};

/// A one-shot or repeating timer.
class Timer {
 public:
  using Callback = std::function<void()>;
  Timer(Loop& loop, Callback cb) : loop_(loop.raw()), cb_(std::move(cb)) {
    ev_init(&w_, &Timer::thunk);
    w_.data = this;
  }
  ~Timer() { stop(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  /// Fires after `after` seconds, then every `repeat` seconds if non-zero.
  void start(double after, double repeat = 0) {
    stop();
    ev_timer_set(&w_, after < 0 ? 0 : after, repeat);
    ev_timer_start(loop_, &w_);
  }
  void stop() { ev_timer_stop(loop_, &w_); }
  bool active() const { return ev_is_active(&w_); }

 private:
  static void thunk(struct ev_loop*, ev_timer* w, int) { static_cast<Timer*>(w->data)->cb_(); }
  struct ev_loop* loop_;
  ev_timer w_;
  Callback cb_;
};

/// A signal delivered through the loop (safe to act on in the callback).
class Signal {
 public:
  using Callback = std::function<void()>;
  Signal(Loop& loop, int signum, Callback cb) : loop_(loop.raw()), cb_(std::move(cb)) {
    ev_signal_init(&w_, &Signal::thunk, signum);
    w_.data = this;
    ev_signal_start(loop_, &w_);
  }
  ~Signal() { ev_signal_stop(loop_, &w_); }
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;

 private:
  static void thunk(struct ev_loop*, ev_signal* w, int) { static_cast<Signal*>(w->data)->cb_(); }
  struct ev_loop* loop_;
  ev_signal w_;
  Callback cb_;
};

/// Exit of one child process (default loop only).
class Child {
 public:
  using Callback = std::function<void(int pid, int status)>;
  Child(Loop& loop, int pid, Callback cb) : loop_(loop.raw()), cb_(std::move(cb)) {
    ev_child_init(&w_, &Child::thunk, pid, 0);
    w_.data = this;
    ev_child_start(loop_, &w_);
  }
  ~Child() { ev_child_stop(loop_, &w_); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

 private:
  static void thunk(struct ev_loop* l, ev_child* w, int) {
    ev_child_stop(l, w);
    static_cast<Child*>(w->data)->cb_(w->rpid, w->rstatus);
  }
  struct ev_loop* loop_;
  ev_child w_;
  Callback cb_;
};

}  // namespace reactor
