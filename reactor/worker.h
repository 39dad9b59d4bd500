#pragma once
// Blocking system calls off the loop thread: a WorkerPool runs jobs on a few
// threads and hands each result back on the loop through an eventfd. Jobs
// with the same key run on the same thread, in the order given, and their
// results come back in that order; jobs of different keys run concurrently.
// A job touches only what it was given (no loop state, no allocation shared
// with the loop but its own closure).

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "reactor/fd.h"
#include "reactor/loop.h"

namespace reactor {

class WorkerPool {
 public:
  using Job = std::function<int()>;
  using Done = std::function<void(int result)>;
  /// `threads` workers (at least one), started on first use.
  WorkerPool(Loop& loop, unsigned threads);
  /// Waits for each thread to finish the jobs it was given (their results
  /// are not handed back).
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Runs `job` off the loop; `done(job())` runs later on the loop thread.
  /// Where no thread can be started the job runs here and now (done included).
  void run(unsigned key, Job job, Done done);
  /// Jobs given and not yet handed back.
  size_t pending() const { return pending_; }
  std::function<void()> after;  ///< runs after finished jobs were handed back

 private:
  struct Task {
    Job job;
    Done done;
    int result = 0;
  };
  struct Worker {
    std::deque<Task> todo;
    std::condition_variable cv;  ///< signalled when todo gets its first task
    std::thread thread;
  };
  bool start(Worker& w);
  void work(Worker& w);
  void finished();

  UniqueFd efd_;
  Io io_;
  std::mutex mu_;
  std::vector<Worker> workers_;
  std::deque<Task> done_;
  bool stop_ = false;
  size_t pending_ = 0;
};

}  // namespace reactor
