#pragma once
// Disk work off the loop thread. A Syncer makes a batch of written files
// durable and reports back on the loop (group commit): qmail-send (todo
// batches) and qmail-queued (messages of concurrent callers) share
// ThreadSyncer. An Offload runs qmail-send's other file work.

#include <functional>
#include <vector>

#include "reactor/loop.h"
#include "reactor/worker.h"

namespace queue {

/// Makes written files durable (group commit): `done(ok)` runs on the
/// scheduler's thread once every file in `fds` is on disk, or with false
/// if that cannot be said; possibly before sync() returns.
class Syncer {
 public:
  virtual ~Syncer() = default;
  virtual void sync(std::vector<int> fds, std::function<void(bool ok)> done) = 0;
};

/// Blocking file work off the loop thread: `done(job())` runs on the
/// scheduler's thread once the job has run (possibly before run() returns).
/// Jobs with the same key run, and are reported, in the order given. A job
/// touches nothing but what its closure holds.
class Offload {
 public:
  virtual ~Offload() = default;
  virtual void run(unsigned long key, std::function<int()> job, std::function<void(int result)> done) = 0;
};

/// The Offload of qmail-send: two threads, so that a file operation waiting
/// for the disk (on a filesystem mounted with `discard`, unlink trims the
/// freed blocks before it returns) holds up neither the loop nor every other
/// operation.
class ThreadOffload : public Offload {
 public:
  explicit ThreadOffload(reactor::Loop& loop) : pool_(loop, 2) {}
  void set_after(std::function<void()> f) { pool_.after = std::move(f); }
  void run(unsigned long key, std::function<int()> job, std::function<void(int)> done) override {
    pool_.run(static_cast<unsigned>(key), std::move(job), std::move(done));
  }

 private:
  reactor::WorkerPool pool_;
};

/// The Syncer of the daemons: one worker thread runs syncfs(2) per batch
/// (one journal commit for every file of the batch; since Linux 5.8 it
/// reports writeback errors; fsync of each file where syncfs is not
/// supported) and hands the result back on the loop. The worker touches
/// nothing but the batch.
class ThreadSyncer : public Syncer {
 public:
  explicit ThreadSyncer(reactor::Loop& loop) : pool_(loop, 1) {}
  /// Runs after finished batches were handed back.
  void set_after(std::function<void()> f) { pool_.after = std::move(f); }
  void sync(std::vector<int> fds, std::function<void(bool)> done) override;
  /// syncfs on the first, or fsync of each: what one batch costs, on the spot.
  static bool sync_now(const std::vector<int>& fds);

 private:
  reactor::WorkerPool pool_;
};

}  // namespace queue
