// qmail-send's todo run (queue.md 4.1): one todo/ entry per step, each turned
// into info/, local/ and remote/ files. They are made durable in batches
// (group commit, off the loop thread where the Syncer allows): while one
// batch syncs, the next is written. Only after its batch is on disk is
// qmail-clean asked to remove a message's todo/N and intd/N (all requests of
// a batch pipelined). Any failure leaves todo/N for next time.
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/envelope.h"
#include "queue/rewrite.h"
#include "queue/scheduler.h"
#include "reactor/fd.h"

namespace queue {

bool Scheduler::todo_step() {
  std::time_t now = world_.clock->now();
  if (!todo_syncing_ && !todo_batch_.empty()) {
    todo_submit();
    return true;
  }
  // A batch collects at most kTodoBatch entries while the previous one syncs.
  if (todo_batch_.size() >= kTodoBatch) return false;
  if (!tododir_) {
    if (todo_subdirs_.empty()) {
      // A new run would find the entries of unsynced batches again.
      if (todo_syncing_ || !todo_batch_.empty()) return false;
      if (!todo_wanted_ && now < next_todo_run_) return false;
      todo_wanted_ = false;
      todo_cur_ = "todo";
      next_todo_run_ = now + kSleepTodo;
    } else {
      todo_cur_ = todo_subdirs_.back();
      todo_subdirs_.pop_back();
    }
    std::string d = world_.queue_dir + "/" + todo_cur_;
    tododir_ = ::opendir(d.c_str());
    if (!tododir_) {
      world_.log->line("alert: unable to opendir " + todo_cur_ + ", sleeping...");
      todo_subdirs_.clear();
      next_todo_run_ = now + 10;
      return false;
    }
  }
  struct dirent* de = ::readdir(tododir_);
  if (!de) {
    ::closedir(tododir_);
    tododir_ = nullptr;
    return !todo_subdirs_.empty() || (!todo_syncing_ && !todo_batch_.empty());
  }
  MsgId id;
  if (!parse_msgid(de->d_name, id)) return true;
  // A big-todo qmail splits todo/ like mess/: read todo/S/N as well as todo/N.
  bool is_dir = de->d_type == DT_DIR;
  if (de->d_type == DT_UNKNOWN) {
    struct stat st;
    std::string p = world_.queue_dir + "/" + todo_cur_ + "/" + de->d_name;
    is_dir = ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  if (is_dir) {
    if (todo_cur_ == "todo") todo_subdirs_.push_back("todo/" + std::string(de->d_name));
    return true;
  }
  todo_one(id);
  return true;
}

namespace {
// Creates `p` exclusively for writing (qmail's open_excl; umask makes it 0600).
int create_excl(const std::string& p) {
  return ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
}
}  // namespace

void Scheduler::todo_one(MsgId id) {
  known_.erase(id);  // whatever was known of an earlier message with this inode
  std::string todo_rel = todo_cur_ + "/" + std::to_string(id);
  auto data = reactor::read_file(world_.queue_dir + "/" + todo_rel, 64u << 20);
  if (!data) {
    warn("unable to open " + todo_rel);
    return;
  }
  struct stat st;
  if (::stat(path(Dir::mess, id).c_str(), &st) != 0) {
    warn("unable to stat " + rel(Dir::mess, id));
    return;
  }
  // Remove what a crash (or a failed step) may have left. local/N and
  // remote/N are made after info/N and removed before it, so neither can
  // be left without info/N: only when that exists is there anything to do.
  TodoItem item;
  item.id = id;
  item.fds[0].reset(create_excl(path(Dir::info, id)));
  if (!item.fds[0].valid() && errno == EEXIST) {
    for (Dir d : {Dir::local, Dir::remote, Dir::info})
      if (::unlink(path(d, id).c_str()) != 0 && errno != ENOENT) {
        warn("unable to unlink " + rel(d, id));
        return;
      }
    item.fds[0].reset(create_excl(path(Dir::info, id)));
  }
  if (!item.fds[0].valid()) {
    warn("unable to create " + rel(Dir::info, id));
    return;
  }
  world_.log->line("new msg " + std::to_string(id));

  std::string chan[2];
  std::string infodata, sender;
  unsigned long uid = 0, pid = 0;
  for (const EnvRecord& r : split_records(*data)) {
    switch (r.type) {
      case 'u': uid = std::strtoul(r.value.c_str(), nullptr, 10); break;
      case 'p': pid = std::strtoul(r.value.c_str(), nullptr, 10); break;
      case 'F':
        infodata = encode_info(r.value);
        sender = r.value;
        world_.log->info(id, static_cast<unsigned long long>(st.st_size), r.value, pid, uid);
        break;
      case 'T': {
        Routed rt = rewrite_recipient(controls_, r.value);
        item.has[rt.channel] = true;
        chan[rt.channel] += 'T';
        chan[rt.channel] += rt.address;
        chan[rt.channel] += '\0';
        break;
      }
      default:
        warn("unknown record type in " + todo_rel);
        return;
    }
  }
  if (!reactor::write_all(item.fds[0].get(), infodata)) {
    warn("trouble writing to " + rel(Dir::info, id));
    return;
  }
  // The info file's mtime is the message's birth; take it from our clock so
  // the schedule has one source of time (the same second in production).
  std::time_t birth = world_.clock->now();
  struct timespec ts[2] = {{birth, 0}, {birth, 0}};
  ::futimens(item.fds[0].get(), ts);
  for (int c = 0; c < 2; ++c) {
    if (!item.has[c]) continue;
    Dir d = c == 0 ? Dir::local : Dir::remote;
    item.fds[1 + c].reset(create_excl(path(d, id)));
    if (!item.fds[1 + c].valid()) {
      warn("unable to create " + rel(d, id));
      return;
    }
    if (!reactor::write_all(item.fds[1 + c].get(), chan[c])) {
      warn("trouble writing to " + rel(d, id));
      return;
    }
  }
  if (known_.size() < kMaxKnown) known_[id] = Known{std::move(sender), false, {item.has[0], item.has[1]}};
  todo_batch_.push_back(std::move(item));
}

void Scheduler::todo_submit() {
  todo_syncing_ = true;
  auto items = std::make_shared<std::vector<TodoItem>>(std::move(todo_batch_));
  todo_batch_.clear();
  std::vector<int> fds;
  for (const TodoItem& it : *items)
    for (const reactor::UniqueFd& fd : it.fds)
      if (fd.valid()) fds.push_back(fd.get());
  auto done = [this, items](bool ok) { todo_synced(std::move(*items), ok); };
  if (world_.syncer) return world_.syncer->sync(std::move(fds), done);
  bool ok = true;
  for (int fd : fds) ok = ok && ::fsync(fd) == 0;
  done(ok);
}

void Scheduler::todo_synced(std::vector<TodoItem> items, bool ok) {
  if (!ok) {
    // todo/N stays: a later run writes these messages again.
    todo_syncing_ = false;
    for (const TodoItem& it : items) {
      warn("trouble fsyncing " + rel(Dir::info, it.id));
      known_.erase(it.id);
    }
    return;
  }
  // Only now may todo/N and intd/N go: everything they said is on disk.
  auto done = std::make_shared<std::vector<TodoItem>>();
  std::vector<std::string> reqs;
  for (TodoItem& it : items) {
    for (reactor::UniqueFd& fd : it.fds) fd.reset();
    reqs.push_back(rel(Dir::todo, it.id));
    done->push_back(std::move(it));
  }
  clean_async(std::move(reqs), [this, done](const std::vector<int>& answers) { todo_cleaned(*done, answers); });
}

void Scheduler::todo_cleaned(const std::vector<TodoItem>& items, const std::vector<int>& answers) {
  todo_syncing_ = false;
  std::time_t now = world_.clock->now();
  for (size_t i = 0; i < items.size(); ++i) {
    const TodoItem& it = items[i];
    if (i >= answers.size() || answers[i] != 1) {
      known_.erase(it.id);
      continue;
    }
    for (int c = 0; c < 2; ++c)
      if (it.has[c]) pqchan_[c].push({now, it.id});
    if (!it.has[0] && !it.has[1]) pqdone_.push({now, it.id});
  }
}

}  // namespace queue
