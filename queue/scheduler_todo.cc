// qmail-send's todo run (queue.md 4.1): one todo/ entry per step, each turned
// into info/, local/ and remote/ files that are fsynced before qmail-clean is
// asked to remove todo/N and intd/N. Any failure leaves todo/N for next time.
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/envelope.h"
#include "queue/rewrite.h"
#include "queue/scheduler.h"
#include "reactor/fd.h"

namespace queue {

bool Scheduler::todo_step() {
  std::time_t now = world_.clock->now();
  if (!tododir_) {
    if (todo_subdirs_.empty()) {
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
    return !todo_subdirs_.empty();
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
  // Remove what a crash in a previous run may have left.
  for (Dir d : {Dir::local, Dir::remote, Dir::info})
    if (::unlink(path(d, id).c_str()) != 0 && errno != ENOENT) {
      warn("unable to unlink " + rel(d, id));
      return;
    }
  reactor::UniqueFd info(create_excl(path(Dir::info, id)));
  if (!info.valid()) {
    warn("unable to create " + rel(Dir::info, id));
    return;
  }
  world_.log->line("new msg " + std::to_string(id));

  std::string chan[2];
  bool has[2] = {false, false};
  std::string infodata;
  unsigned long uid = 0, pid = 0;
  for (const EnvRecord& r : split_records(*data)) {
    switch (r.type) {
      case 'u': uid = std::strtoul(r.value.c_str(), nullptr, 10); break;
      case 'p': pid = std::strtoul(r.value.c_str(), nullptr, 10); break;
      case 'F':
        infodata = encode_info(r.value);
        world_.log->info(id, static_cast<unsigned long long>(st.st_size), r.value, pid, uid);
        break;
      case 'T': {
        Routed rt = rewrite_recipient(controls_, r.value);
        has[rt.channel] = true;
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
  if (!reactor::write_all(info.get(), infodata)) {
    warn("trouble writing to " + rel(Dir::info, id));
    return;
  }
  // The info file's mtime is the message's birth; take it from our clock so
  // the schedule has one source of time (the same second in production).
  std::time_t birth = world_.clock->now();
  struct timespec ts[2] = {{birth, 0}, {birth, 0}};
  ::futimens(info.get(), ts);
  if (::fsync(info.get()) != 0) {
    warn("trouble fsyncing " + rel(Dir::info, id));
    return;
  }
  info.reset();
  for (int c = 0; c < 2; ++c) {
    if (!has[c]) continue;
    Dir d = c == 0 ? Dir::local : Dir::remote;
    reactor::UniqueFd fd(create_excl(path(d, id)));
    if (!fd.valid()) {
      warn("unable to create " + rel(d, id));
      return;
    }
    if (!reactor::write_all(fd.get(), chan[c])) {
      warn("trouble writing to " + rel(d, id));
      return;
    }
    if (::fsync(fd.get()) != 0) {
      warn("trouble fsyncing " + rel(d, id));
      return;
    }
  }
  // Only now may todo/N and intd/N go: everything they said is on disk.
  if (!clean(rel(Dir::todo, id))) return;
  std::time_t now = world_.clock->now();
  for (int c = 0; c < 2; ++c)
    if (has[c]) pqchan_[c].push({now, id});
  if (!has[0] && !has[1]) pqdone_.push({now, id});
}

}  // namespace queue
