#pragma once
// The heart of qmail-send (queue.md 4.1-4.8): incremental todo processing,
// per-channel priority queues keyed by next-try time, jobs and delivery slots,
// bounce accumulation and completion. The world is injected (Clock, Spawner,
// CleanService, BounceInjector) so tests run it without fork or sleep.

#include <ctime>
#include <deque>
#include <dirent.h>
#include <functional>
#include <queue>
#include <string>
#include <sys/types.h>
#include <unordered_map>
#include <vector>

#include "queue/syncer.h"
#include "queue/controls.h"
#include "queue/layout.h"
#include "queue/send_log.h"
#include "reactor/fd.h"
#include "reactor/result.h"
#include "queue/spawn_proto.h"

namespace queue {

/// Wall-clock seconds.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::time_t now() = 0;
};

/// The two spawn pipes (fd 1/2 local, fd 3/4 remote).
class Spawner {
 public:
  virtual ~Spawner() = default;
  /// False once the spawner's pipe is gone.
  virtual bool alive(int channel) const = 0;
  /// True if another request may be written now (qmail keeps one in flight per pipe).
  virtual bool can_write(int channel) const = 0;
  /// Queues one request for the spawner.
  virtual void send(int channel, const queue::proto::Request& r) = 0;
};

/// qmail-clean on fd 5/6 (queue.md 4.9).
class CleanService {
 public:
  virtual ~CleanService() = default;
  /// Sends "todo/N" or "foop/N"; 1 on '+', 0 on '!', -1 if the connection is lost.
  virtual int clean(const std::string& request) = 0;
  /// Several requests at once (pipelined where the service can); one answer each, in order.
  virtual std::vector<int> clean_many(const std::vector<std::string>& requests);
  /// Sends requests without waiting; `done` gets the answers in order later (fewer
  /// than requested if the connection is lost), possibly before this returns.
  virtual void clean_async(std::vector<std::string> requests, std::function<void(std::vector<int>)> done) {
    done(clean_many(requests));
  }
};

/// Queues a composed bounce through qmail-queue.
class BounceInjector {
 public:
  virtual ~BounceInjector() = default;
  /// Injects `head`, the file `mess_path`, then `tail`; returns the qp (pid) of qmail-queue.
  virtual reactor::Result<long> inject(const std::string& sender, const std::string& recipient,
                                       const std::string& head, const std::string& mess_path,
                                       const std::string& tail) = 0;
};

/// Everything the scheduler talks to.
struct SchedulerWorld {
  Clock* clock;
  Spawner* spawner;
  CleanService* cleaner;
  BounceInjector* injector;
  const SendLog* log;
  std::string queue_dir = ".";  ///< QMAILHOME/queue (qmail-send runs inside it)
  Syncer* syncer = nullptr;     ///< nullptr: fsync each file on the spot
  Offload* offload = nullptr;   ///< nullptr: file work on the spot
};

/// qmail-send's state: one instance per process, driven by an event loop.
class Scheduler {
 public:
  /// `spawn_cap` are the hello bytes of the two spawners.
  Scheduler(SchedulerWorld world, Controls controls, const unsigned spawn_cap[2]);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Startup: scans info/ once, using channel-file mtimes as next-try times.
  void startup_scan();
  /// lock/trigger fired: look into todo/ now.
  void trigger() { todo_wanted_ = true; }
  /// ALRM: every queued channel entry becomes due now.
  void run_now();
  /// HUP: switch to a new, already validated control set.
  void set_controls(Controls c);
  /// TERM or a lost helper: start nothing new.
  void exit_asap() { exitasap_ = true; }
  bool exiting() const { return exitasap_; }
  /// True when no delivery is running on a live spawner.
  bool can_exit() const;
  /// Before exit: writes next-try times into channel-file mtimes.
  void finish();

  /// Does one bounded unit of work of each kind that is due; true if anything happened.
  bool step();
  /// Earliest time something becomes due (now or earlier if work is pending).
  std::time_t next_wakeup();

  /// One report from a spawner.
  void on_report(int channel, const queue::proto::Report& r);
  /// A spawner's pipe closed.
  void spawn_lost(int channel);

  /// "status: ..." line.
  void log_status() const;
  /// Running deliveries on a channel.
  unsigned used(int channel) const { return used_[channel]; }
  /// Effective concurrency of a channel.
  unsigned concurrency(int channel) const { return conc_[channel]; }
  const Controls& controls() const { return controls_; }

 private:
  struct Entry {
    std::time_t dt;
    MsgId id;
    bool operator>(const Entry& o) const { return dt > o.dt || (dt == o.dt && id > o.id); }
  };
  using Pq = std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>>;
  struct Job {
    int refs = 0;
    MsgId id = 0;
    int channel = 0;
    std::time_t retry = 0;
    std::string sender;
    int numtodo = 0;
    bool hiteof = false;
    bool dying = false;
    reactor::UniqueFd chan;  ///< the channel file, open for marking records done
  };
  struct Delivery {
    bool used = false;
    int job = -1;
    unsigned long delid = 0;
    off_t pos = 0;
    std::string recip;
  };
  struct Pass {
    bool active = false;
    MsgId id = 0;
    int job = -1;
    std::string data;       // the channel file, read at pass start
    size_t pos = 0;         // next record offset in data
  };

  std::string path(Dir d, MsgId id) const;
  std::string rel(Dir d, MsgId id) const { return msg_path(d, id); }
  void warn(const std::string& text) const { world_.log->line("warning: " + text); }
  void apply_concurrency();

  // A message whose info and channel files are written and await their sync.
  struct TodoItem {
    MsgId id = 0;
    bool has[2] = {false, false};
    reactor::UniqueFd fds[3];  ///< info, local, remote
  };
  // What this run knows of a message it took from todo/, so that passes and
  // completion need not read it back (bounded; absent entries are read from disk).
  struct Known {
    std::string sender;
    bool bounce = false;  ///< bounce/N was written in this run
    /// local/N, remote/N written by this run's todo step and not yet
    /// removed: with them the done path needs no stat of files that
    /// cannot exist (only this process makes or removes them).
    bool live[2] = {false, false};
  };

  // todo (scheduler_todo.cc)
  bool todo_step();
  void todo_one(MsgId id);
  void todo_submit();
  void todo_synced(std::vector<TodoItem> items, bool ok);
  void todo_cleaned(const std::vector<TodoItem>& items, const std::vector<int>& answers);
  // passes and deliveries (scheduler.cc)
  void pqadd(MsgId id);
  bool pass_step(int c);
  bool del_avail(int c) const;
  void del_start(int j, off_t pos, const std::string& recip);
  void mark_done(int job, off_t pos);
  int job_open(MsgId id, int c);
  void job_close(int j);
  void chan_removed(MsgId id, int c, int err);
  /// Unlinks `d`/N off the loop (or at once); `done(0 or errno)`.
  void remove(Dir d, MsgId id, std::function<void(int err)> done);
  /// Runs `job` off the loop where an Offload is given; `done(job())`.
  void offload(MsgId key, std::function<int()> job, std::function<void(int)> done);
  bool job_avail() const { return jobs_used_ < numjobs_; }
  bool getinfo(MsgId id, std::string& sender, std::time_t& birth) const;
  // bounces and completion (scheduler_done.cc)
  void add_bounce(MsgId id, const std::string& recip, const std::string& report);
  bool inject_bounce(MsgId id);
  void messdone(MsgId id);
  bool finish_step();
  void clean(const std::string& req);
  void clean_async(std::vector<std::string> reqs, std::function<void(const std::vector<int>&)> done);
  bool cleanup_step();

  SchedulerWorld world_;
  Controls controls_;
  unsigned cap_[2];
  unsigned conc_[2] = {0, 0};
  unsigned used_[2] = {0, 0};
  std::vector<Delivery> dels_[2];
  std::vector<Job> jobs_;
  unsigned numjobs_ = 0;
  unsigned jobs_used_ = 0;
  Pass pass_[2];
  Pq pqchan_[2], pqdone_, pqfail_;
  unsigned long next_delid_ = 1;
  bool exitasap_ = false;
  bool spawn_alive_[2] = {true, true};
  bool clean_alive_ = true;

  // todo run
  bool todo_wanted_ = true;
  DIR* tododir_ = nullptr;
  std::string todo_cur_ = "todo";           ///< directory being read: todo or todo/S
  std::vector<std::string> todo_subdirs_;   ///< split (big-todo) subdirectories still to read
  std::time_t next_todo_run_ = 0;
  std::vector<TodoItem> todo_batch_;        ///< written, waiting for the next sync
  bool todo_syncing_ = false;               ///< a batch is being made durable and cleaned
  std::unordered_map<MsgId, Known> known_;
  unsigned open_chans_ = 0;                 ///< jobs holding their channel file open
  std::deque<MsgId> fin_;                   ///< finished messages whose info/N and mess/N are to go
  unsigned fin_busy_ = 0;                   ///< of those, info/N being removed or foop/N with qmail-clean
  unsigned offloaded_ = 0;                  ///< jobs given to the Offload and not yet reported

  // periodic cleanup of mess/
  bool cleanup_active_ = false;
  int cleanup_sub_ = 0;
  DIR* cleanup_dir_ = nullptr;
  std::time_t cleanup_time_ = 0;
};

constexpr std::time_t kSleepTodo = 1500;     ///< todo/ is read at least every 25 minutes
constexpr std::time_t kSleepCleanup = 76431; ///< time between mess/ cleanups
constexpr std::time_t kSleepSysfail = 123;   ///< retry delay after a system failure
constexpr std::time_t kOssified = 129600;    ///< 36 hours: debris age in mess/
constexpr size_t kTodoBatch = 64;            ///< todo entries made durable together at most
constexpr size_t kMaxKnown = 4096;           ///< messages whose info is kept in memory
constexpr unsigned kMaxOpenChans = 256;      ///< channel files kept open by jobs at most
constexpr unsigned kMaxFinishing = 32;       ///< messages between info/N's removal and foop/N's answer

}  // namespace queue
