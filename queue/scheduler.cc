// qmail-send's scheduler: channels, jobs, deliveries (see scheduler.h).
// Todo processing is in scheduler_todo.cc, bounces and completion in
// scheduler_done.cc.
#include "queue/scheduler.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include "queue/bounce.h"
#include "queue/envelope.h"
#include "queue/retry.h"
#include "reactor/fd.h"

namespace queue {

Scheduler::Scheduler(SchedulerWorld world, Controls controls, const unsigned spawn_cap[2])
    : world_(std::move(world)), controls_(std::move(controls)) {
  for (int c = 0; c < 2; ++c) {
    cap_[c] = std::min(spawn_cap[c], proto::kMaxWideSlots);
    dels_[c].resize(cap_[c]);
  }
  apply_concurrency();
  std::time_t now = world_.clock->now();
  next_todo_run_ = now;
  cleanup_time_ = now;
}

Scheduler::~Scheduler() {
  if (tododir_) ::closedir(tododir_);
  if (cleanup_dir_) ::closedir(cleanup_dir_);
}

void Scheduler::apply_concurrency() {
  // The spawner's hello caps the configured value (conf-spawn); say so once
  // per reading of the control files, so an administrator sees why.
  static const char* const kName[2] = {"concurrencylocal", "concurrencyremote"};
  for (int c = 0; c < 2; ++c) {
    conc_[c] = std::min(controls_.concurrency[c], cap_[c]);
    if (controls_.concurrency[c] > cap_[c])
      warn(std::string(kName[c]) + " " + std::to_string(controls_.concurrency[c]) +
           " is above what the spawner offers; using " + std::to_string(cap_[c]));
  }
  numjobs_ = conc_[0] + conc_[1];
  if (jobs_.size() < numjobs_) jobs_.resize(numjobs_);
}

void Scheduler::set_controls(Controls c) {
  controls_ = std::move(c);
  // Lowering a limit never stops running deliveries; it only holds new ones.
  apply_concurrency();
}

std::string Scheduler::path(Dir d, MsgId id) const { return world_.queue_dir + "/" + msg_path(d, id); }

void Scheduler::log_status() const {
  world_.log->status(used_[0], conc_[0], used_[1], conc_[1], exitasap_);
}

bool Scheduler::getinfo(MsgId id, std::string& sender, std::time_t& birth) const {
  std::string p = path(Dir::info, id);
  if (auto k = known_.find(id); k != known_.end()) {
    // The sender cannot change; the birth can (an administrator may touch
    // info/N to give a message more time, FAQ 7.3), so it is stat'ed anew.
    struct stat st;
    if (::stat(p.c_str(), &st) != 0) return false;
    sender = k->second.sender;
    birth = st.st_mtime;
    return true;
  }
  reactor::UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return false;
  std::string data;
  if (!reactor::read_all(fd.get(), data, 1 << 20)) return false;
  if (!parse_info(data, sender)) return false;
  birth = st.st_mtime;  // the info file's mtime is the message's birth
  return true;
}

// ---------------------------------------------------------------- queues

void Scheduler::pqadd(MsgId id) {
  struct stat st;
  std::time_t now = world_.clock->now();
  std::string fn = path(Dir::info, id);
  auto fail = [&](const std::string& f) {
    warn("unable to stat " + f.substr(world_.queue_dir.size() + 1) + "; will try again later");
    pqfail_.push({now + kSleepSysfail, id});
  };
  if (::stat(fn.c_str(), &st) != 0) {
    if (errno != ENOENT) fail(fn);
    return;
  }
  fn = path(Dir::todo, id);
  if (::stat(fn.c_str(), &st) == 0) return;  // the todo run will redo this message
  if (errno != ENOENT) return fail(fn);
  bool any = false;
  Entry e[2];
  bool has[2] = {false, false};
  for (int c = 0; c < 2; ++c) {
    fn = path(c == 0 ? Dir::local : Dir::remote, id);
    if (::stat(fn.c_str(), &st) == 0) {
      has[c] = true;
      e[c] = {st.st_mtime, id};  // mtime holds the next-try time while we were stopped
    } else if (errno != ENOENT) {
      return fail(fn);
    }
  }
  for (int c = 0; c < 2; ++c)
    if (has[c]) { pqchan_[c].push(e[c]); any = true; }
  if (!any) pqdone_.push({now, id});
}

void Scheduler::startup_scan() {
  for (int s = 0; s < kConfSplit; ++s) {
    std::string d = world_.queue_dir + "/info/" + std::to_string(s);
    DIR* dir = ::opendir(d.c_str());
    if (!dir) {
      world_.log->line("alert: unable to opendir info/" + std::to_string(s) + ", sleeping...");
      continue;
    }
    while (struct dirent* de = ::readdir(dir)) {
      MsgId id;
      if (parse_msgid(de->d_name, id)) pqadd(id);
    }
    ::closedir(dir);
  }
}

void Scheduler::run_now() {
  std::time_t now = world_.clock->now();
  for (int c = 0; c < 2; ++c) {
    std::vector<Entry> all;
    while (!pqchan_[c].empty()) {
      all.push_back(pqchan_[c].top());
      pqchan_[c].pop();
    }
    for (auto& e : all) pqchan_[c].push({now, e.id});
  }
}

void Scheduler::finish() {
  // Open passes give their job back so its retry time is written too.
  for (int c = 0; c < 2; ++c)
    if (pass_[c].active) {
      pass_[c].active = false;
      job_close(pass_[c].job);
    }
  for (int c = 0; c < 2; ++c)
    while (!pqchan_[c].empty()) {
      Entry e = pqchan_[c].top();
      pqchan_[c].pop();
      std::string fn = path(c == 0 ? Dir::local : Dir::remote, e.id);
      struct utimbuf ut{e.dt, e.dt};
      if (::utime(fn.c_str(), &ut) != 0 && errno != ENOENT)
        warn("unable to utime " + rel(c == 0 ? Dir::local : Dir::remote, e.id) +
             "; message will be retried too soon");
    }
}

bool Scheduler::can_exit() const {
  if (offloaded_) return false;
  for (int c = 0; c < 2; ++c)
    if (spawn_alive_[c] && used_[c]) return false;
  return true;
}

// ---------------------------------------------------------------- jobs

int Scheduler::job_open(MsgId id, int c) {
  for (size_t j = 0; j < jobs_.size(); ++j)
    if (!jobs_[j].refs) {
      jobs_[j] = Job{};
      jobs_[j].refs = 1;
      jobs_[j].id = id;
      jobs_[j].channel = c;
      ++jobs_used_;
      return static_cast<int>(j);
    }
  return -1;
}

void Scheduler::job_close(int j) {
  Job& job = jobs_[static_cast<size_t>(j)];
  if (--job.refs > 0) return;
  --jobs_used_;
  Entry e{job.retry, job.id};
  int c = job.channel;
  if (job.chan.valid()) {
    job.chan.reset();
    --open_chans_;
  }
  if (job.hiteof && !job.numtodo) {
    // Every recipient is done: the channel file goes (off the loop where a
    // Remover is given), and then the message is done if the other one is.
    MsgId id = job.id;
    remove(c == 0 ? Dir::local : Dir::remote, id, [this, id, c](int err) { chan_removed(id, c, err); });
    return;
  }
  pqchan_[c].push(e);
}

void Scheduler::chan_removed(MsgId id, int c, int err) {
  Dir d = c == 0 ? Dir::local : Dir::remote;
  if (err) {
    warn("unable to unlink " + rel(d, id) + "; will try again later");
    pqchan_[c].push({world_.clock->now() + kSleepSysfail, id});
    return;
  }
  Dir other = c == 0 ? Dir::remote : Dir::local;
  auto k = known_.find(id);
  if (k != known_.end()) {
    k->second.live[c] = false;
    if (k->second.live[1 - c]) return;  // the other channel goes on
  } else {
    struct stat st;
    if (::stat(path(other, id).c_str(), &st) == 0) return;  // the other channel goes on
    if (errno != ENOENT) warn("unable to stat " + rel(other, id));
  }
  pqdone_.push({world_.clock->now(), id});
}

void Scheduler::remove(Dir d, MsgId id, std::function<void(int)> done) {
  offload(id, [p = path(d, id)] { return ::unlink(p.c_str()) == 0 ? 0 : errno; }, std::move(done));
}

void Scheduler::offload(MsgId key, std::function<int()> job, std::function<void(int)> done) {
  if (!world_.offload) return done(job());
  ++offloaded_;
  world_.offload->run(key, std::move(job), [this, done = std::move(done)](int r) {
    --offloaded_;
    done(r);
  });
}

// ---------------------------------------------------------------- deliveries

bool Scheduler::del_avail(int c) const {
  return spawn_alive_[c] && world_.spawner->can_write(c) && used_[c] < conc_[c];
}

void Scheduler::del_start(int j, off_t pos, const std::string& recip) {
  int c = jobs_[static_cast<size_t>(j)].channel;
  unsigned slot = 0;
  while (slot < conc_[c] && dels_[c][slot].used) ++slot;
  if (slot >= conc_[c]) return;
  Job& job = jobs_[static_cast<size_t>(j)];
  Delivery& d = dels_[c][slot];
  d.used = true;
  d.job = j;
  d.delid = next_delid_++;
  d.pos = pos;
  d.recip = recip;
  ++job.refs;
  ++used_[c];
  queue::proto::Request r;
  r.slot = static_cast<std::uint16_t>(slot);
  r.mess = split_name(job.id);
  r.sender = verp_sender(job.sender, recip);
  r.recipient = recip;
  world_.spawner->send(c, r);
  world_.log->starting(d.delid, job.id, c, recip);
  log_status();
}

void Scheduler::mark_done(int j, off_t pos) {
  Job& job = jobs_[static_cast<size_t>(j)];
  Dir d = job.channel == 0 ? Dir::local : Dir::remote;
  // Overwrite the record's T with D; no fsync: a crash may repeat a delivery, never lose one.
  reactor::UniqueFd own;
  int fd = job.chan.get();
  if (!job.chan.valid()) {
    own.reset(::open(path(d, job.id).c_str(), O_WRONLY | O_CLOEXEC));
    fd = own.get();
  }
  if (fd >= 0 && ::pwrite(fd, "D", 1, pos) == 1) return;
  warn("trouble marking " + rel(d, job.id) + "; message will be delivered twice!");
}

void Scheduler::on_report(int c, const queue::proto::Report& rep) {
  if (rep.slot >= dels_[c].size() || !dels_[c][rep.slot].used) {
    warn("internal error: delivery report out of range");
    return;
  }
  Delivery& d = dels_[c][rep.slot];
  Job& job = jobs_[static_cast<size_t>(d.job)];
  char status = rep.status;
  std::string text = rep.text;
  if (status == 'Z' && job.dying) {
    // The message outlived queuelifetime: its last deferral becomes a failure.
    status = 'D';
    text += "I'm not going to try again; this message has been in the queue too long.\n";
  }
  // The done mark comes first (after the bounce entry a failure needs), so
  // that a crash repeats as few finished deliveries as it can.
  if (status == 'K' || status == 'D') {
    if (status == 'D') add_bounce(job.id, d.recip, text);
    mark_done(d.job, d.pos);
    --job.numtodo;
  }
  world_.log->report(d.delid, status, text);
  int j = d.job;
  d.used = false;
  d.recip.clear();
  --used_[c];
  job_close(j);
  log_status();
}

void Scheduler::spawn_lost(int c) {
  if (!spawn_alive_[c]) return;
  world_.log->line("alert: oh no! lost spawn connection! dying...");
  spawn_alive_[c] = false;
  exitasap_ = true;
}

// ---------------------------------------------------------------- passes

bool Scheduler::pass_step(int c) {
  if (exitasap_) return false;
  Pass& p = pass_[c];
  std::time_t now = world_.clock->now();
  Dir d = c == 0 ? Dir::local : Dir::remote;
  if (!p.active) {
    if (!job_avail() || pqchan_[c].empty() || pqchan_[c].top().dt > now) return false;
    Entry e = pqchan_[c].top();
    pqchan_[c].pop();
    std::string sender;
    std::time_t birth;
    // Read once; kept open for the done marks of this pass's deliveries.
    reactor::UniqueFd fd(::open(path(d, e.id).c_str(), O_RDWR | O_CLOEXEC));
    std::string data;
    if (!fd.valid() || !reactor::read_all(fd.get(), data, 16u << 20) || !getinfo(e.id, sender, birth)) {
      warn("trouble opening " + rel(d, e.id) + "; will try again later");
      pqchan_[c].push({now + kSleepSysfail, e.id});
      return true;
    }
    p.active = true;
    p.id = e.id;
    p.data = std::move(data);
    p.pos = 0;
    p.job = job_open(e.id, c);
    Job& job = jobs_[static_cast<size_t>(p.job)];
    // Kept open for the done marks while descriptors last (a channel may run
    // thousands of jobs at once); beyond that each mark opens the file.
    if (open_chans_ < kMaxOpenChans) {
      job.chan = std::move(fd);
      ++open_chans_;
    }
    job.retry = next_retry(birth, now, c);
    job.dying = is_dying(birth, now, controls_.queuelifetime);
    job.sender = sender;
  }
  if (!del_avail(c)) return false;
  // Walk to the next record; D records are skipped, T records start a delivery.
  while (true) {
    size_t z = p.data.find('\0', p.pos);
    if (z == std::string::npos) {
      jobs_[static_cast<size_t>(p.job)].hiteof = true;
      p.active = false;
      p.data.clear();
      job_close(p.job);
      return true;
    }
    off_t pos = static_cast<off_t>(p.pos);
    char type = z > p.pos ? p.data[p.pos] : 0;
    std::string value = z > p.pos ? p.data.substr(p.pos + 1, z - p.pos - 1) : std::string();
    p.pos = z + 1;
    if (type == 'D') continue;
    if (type == 'T') {
      ++jobs_[static_cast<size_t>(p.job)].numtodo;
      del_start(p.job, pos, value);
      return true;
    }
    warn("unknown record type in " + rel(d, p.id) + "!");
    p.active = false;
    p.data.clear();
    job_close(p.job);
    return true;
  }
}

// ---------------------------------------------------------------- main step

bool Scheduler::step() {
  bool did = false;
  std::time_t now = world_.clock->now();
  if (!exitasap_) did |= cleanup_step();
  if (!exitasap_) did |= todo_step();
  for (int c = 0; c < 2; ++c) did |= pass_step(c);
  if (!exitasap_ && !pqfail_.empty() && pqfail_.top().dt <= now) {
    MsgId id = pqfail_.top().id;
    pqfail_.pop();
    pqadd(id);
    did = true;
  }
  if (!exitasap_ && !pqdone_.empty() && pqdone_.top().dt <= now) {
    MsgId id = pqdone_.top().id;
    pqdone_.pop();
    messdone(id);
    did = true;
  }
  if (!exitasap_) did |= finish_step();
  return did;
}

std::time_t Scheduler::next_wakeup() {
  std::time_t now = world_.clock->now();
  std::time_t w = now + 86400;
  if (exitasap_) return w;
  auto at = [&](std::time_t t) { if (t < w) w = t; };
  for (int c = 0; c < 2; ++c)
    if (pass_[c].active && del_avail(c)) return now;
  if (job_avail())
    for (int c = 0; c < 2; ++c)
      if (!pass_[c].active && !pqchan_[c].empty()) at(pqchan_[c].top().dt);
  if (!pqfail_.empty()) at(pqfail_.top().dt);
  if (!pqdone_.empty()) at(pqdone_.top().dt);
  // While a batch syncs, a new todo run waits for its completion (which pumps).
  bool todo_ready = todo_syncing_ ? tododir_ && todo_batch_.size() < kTodoBatch
                                  : tododir_ || todo_wanted_ || !todo_batch_.empty();
  if (todo_ready || cleanup_active_ || (fin_busy_ < kMaxFinishing && !fin_.empty())) return now;
  if (!todo_syncing_) at(next_todo_run_);
  at(cleanup_time_);
  return w;
}

}  // namespace queue
