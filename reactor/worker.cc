// WorkerPool (see worker.h).
#include "reactor/worker.h"

#include <csignal>
#include <cstdint>
#include <sys/eventfd.h>
#include <unistd.h>

namespace reactor {

WorkerPool::WorkerPool(Loop& loop, unsigned threads)
    : io_(loop, [this](int) { finished(); }), workers_(threads ? threads : 1) {
  efd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (efd_.valid()) io_.start(efd_.get(), EV_READ);
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  for (Worker& w : workers_) w.cv.notify_one();
  for (Worker& w : workers_)
    if (w.thread.joinable()) w.thread.join();
}

void WorkerPool::run(unsigned key, Job job, Done done) {
  Worker& w = workers_[key % workers_.size()];
  if (!efd_.valid() || !start(w)) return done(job());
  bool was_idle;
  {
    std::lock_guard<std::mutex> g(mu_);
    was_idle = w.todo.empty();
    w.todo.push_back(Task{std::move(job), std::move(done)});
  }
  ++pending_;
  // A worker with tasks left looks at its queue again before it waits.
  if (was_idle) w.cv.notify_one();
}

bool WorkerPool::start(Worker& w) {
  if (w.thread.joinable()) return true;
  // Workers take no signals: they belong to the loop.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    w.thread = std::thread([this, &w] { work(w); });
  } catch (...) {
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return w.thread.joinable();
}

void WorkerPool::work(Worker& w) {
  std::unique_lock<std::mutex> g(mu_);
  for (;;) {
    w.cv.wait(g, [&] { return stop_ || !w.todo.empty(); });
    if (w.todo.empty()) return;  // stopping, and nothing left of ours
    Task t = std::move(w.todo.front());
    w.todo.pop_front();
    g.unlock();
    t.result = t.job();
    g.lock();
    bool first = done_.empty();
    done_.push_back(std::move(t));
    // The loop reads the eventfd before it takes done_: results that find
    // done_ non-empty are taken with those before them.
    if (first) {
      std::uint64_t one = 1;
      [[maybe_unused]] ssize_t r = ::write(efd_.get(), &one, sizeof one);
    }
  }
}

void WorkerPool::finished() {
  std::uint64_t n;
  [[maybe_unused]] ssize_t r = ::read(efd_.get(), &n, sizeof n);
  std::deque<Task> ready;
  {
    std::lock_guard<std::mutex> g(mu_);
    ready.swap(done_);
  }
  pending_ -= ready.size();
  for (Task& t : ready) t.done(t.result);
  if (!ready.empty() && after) after();
}

}  // namespace reactor
