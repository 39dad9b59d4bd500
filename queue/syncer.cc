// ThreadSyncer (see syncer.h).
#include "queue/syncer.h"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <sys/eventfd.h>
#include <unistd.h>

namespace queue {

ThreadSyncer::ThreadSyncer(reactor::Loop& loop) : io_(loop, [this](int) { finished(); }) {
  efd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (efd_.valid()) io_.start(efd_.get(), EV_READ);
}

ThreadSyncer::~ThreadSyncer() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (worker_.joinable()) worker_.join();
}

void ThreadSyncer::sync(std::vector<int> fds, std::function<void(bool)> done) {
  if (!efd_.valid() || !start_worker()) return done(sync_now(fds));
  {
    std::lock_guard<std::mutex> g(mu_);
    todo_.push_back(Batch{std::move(fds), std::move(done), false});
  }
  cv_.notify_one();
}

bool ThreadSyncer::sync_now(const std::vector<int>& fds) {
  if (fds.empty()) return true;
  if (::syncfs(fds[0]) == 0) return true;
  if (errno != ENOSYS && errno != EINVAL) return false;
  for (int fd : fds)
    if (::fsync(fd) != 0) return false;
  return true;
}

bool ThreadSyncer::start_worker() {
  if (worker_.joinable()) return true;
  // The worker takes no signals: they belong to the loop.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    worker_ = std::thread([this] { work(); });
  } catch (...) {
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return worker_.joinable();
}

void ThreadSyncer::work() {
  std::unique_lock<std::mutex> g(mu_);
  for (;;) {
    cv_.wait(g, [this] { return stop_ || !todo_.empty(); });
    if (stop_) return;
    Batch b = std::move(todo_.front());
    todo_.pop_front();
    g.unlock();
    b.ok = sync_now(b.fds);
    g.lock();
    done_.push_back(std::move(b));
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t w = ::write(efd_.get(), &one, sizeof one);
  }
}

void ThreadSyncer::finished() {
  std::uint64_t n;
  [[maybe_unused]] ssize_t r = ::read(efd_.get(), &n, sizeof n);
  std::deque<Batch> ready;
  {
    std::lock_guard<std::mutex> g(mu_);
    ready.swap(done_);
  }
  for (Batch& b : ready) b.done(b.ok);
  if (!ready.empty() && after) after();
}

}  // namespace queue
