#pragma once
// Group commit off the loop thread: a Syncer makes a batch of written files
// durable and reports back on the loop. qmail-send (todo batches) and
// qmail-queued (messages of concurrent callers) share ThreadSyncer.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "reactor/fd.h"
#include "reactor/loop.h"

namespace queue {

/// Makes written files durable (group commit): `done(ok)` runs on the
/// scheduler's thread once every file in `fds` is on disk, or with false
/// if that cannot be said; possibly before sync() returns.
class Syncer {
 public:
  virtual ~Syncer() = default;
  virtual void sync(std::vector<int> fds, std::function<void(bool ok)> done) = 0;
};

/// The Syncer of the daemons: one worker thread runs syncfs(2) per batch
/// (one journal commit for every file of the batch; since Linux 5.8 it
/// reports writeback errors; fsync of each file where syncfs is not
/// supported) and hands the result back through an eventfd watched by the
/// loop. The worker touches nothing but the batch.
class ThreadSyncer : public Syncer {
 public:
  explicit ThreadSyncer(reactor::Loop& loop);
  ~ThreadSyncer() override;
  std::function<void()> after;  ///< runs after finished batches were handed back
  void sync(std::vector<int> fds, std::function<void(bool)> done) override;
  /// syncfs on the first, or fsync of each: what one batch costs, on the spot.
  static bool sync_now(const std::vector<int>& fds);

 private:
  struct Batch {
    std::vector<int> fds;
    std::function<void(bool)> done;
    bool ok;
  };
  bool start_worker();
  void work();
  void finished();

  reactor::UniqueFd efd_;
  reactor::Io io_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> todo_, done_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace queue
