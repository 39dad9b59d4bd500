// qmail-send's bounce accumulation, completion of finished messages and the
// periodic cleanup of mess/ (queue.md 4.6-4.9).
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/bounce.h"
#include "queue/date822.h"
#include "queue/rewrite.h"
#include "queue/scheduler.h"
#include "reactor/fd.h"

namespace queue {

namespace {
// The first `n` bytes of `path` (fewer if the file is shorter).
bool read_prefix(const std::string& path, size_t n, std::string& out) {
  reactor::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  out.resize(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = reactor::read_some(fd.get(), out.data() + got, n - got);
    if (r < 0) return false;
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  return true;
}

// Whether qmail-send hands `recip` to the local channel (locals or virtualdomains),
// which decides the Diagnostic-Code type of an RFC 3464 report.
bool delivered_locally(const Controls& c, std::string_view recip) {
  size_t at = recip.rfind('@');
  if (at == std::string_view::npos) return true;
  std::string addr(recip), domain(recip.substr(at + 1));
  if (c.is_local(domain) || c.vdom(addr)) return true;
  for (size_t dot = 0; dot != std::string::npos; dot = domain.find('.', dot + 1))
    if (c.vdom(domain.substr(dot))) return true;
  return false;
}
}  // namespace

std::vector<int> CleanService::clean_many(const std::vector<std::string>& reqs) {
  std::vector<int> out;
  for (const std::string& r : reqs) {
    out.push_back(clean(r));
    if (out.back() < 0) break;
  }
  return out;
}

// qmail-clean's answers come back through the loop; nothing waits for them.
void Scheduler::clean_async(std::vector<std::string> reqs,
                            std::function<void(const std::vector<int>&)> done) {
  if (!clean_alive_) return done({});
  auto sent = std::make_shared<std::vector<std::string>>(reqs);
  world_.cleaner->clean_async(std::move(reqs), [this, sent, done](std::vector<int> out) {
    for (size_t i = 0; i < sent->size(); ++i) {
      int r = i < out.size() ? out[i] : -1;
      if (r < 0) {
        if (clean_alive_) {
          clean_alive_ = false;
          world_.log->line("alert: oh no! lost qmail-clean connection! dying...");
          exitasap_ = true;
        }
        break;
      }
      if (r == 0) warn("qmail-clean unable to clean up " + (*sent)[i]);
    }
    done(out);
  });
}

void Scheduler::clean(const std::string& req) {
  clean_async({req}, [](const std::vector<int>&) {});
}

void Scheduler::add_bounce(MsgId id, const std::string& recip, const std::string& report) {
  std::string text = bounce_entry(strip_vdom_prefix(controls_, recip), report);
  std::string fn = path(Dir::bounce, id);
  if (auto k = known_.find(id); k != known_.end()) k->second.bounce = true;
  // The report must never be dropped: like qmail, wait for the disk to recover.
  for (;;) {
    reactor::UniqueFd fd(::open(fn.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (fd.valid() && reactor::write_all(fd.get(), text)) return;
    world_.log->line("alert: unable to append to bounce message; HELP! sleeping...");
    ::sleep(10);
  }
}

bool Scheduler::inject_bounce(MsgId id) {
  std::string sender;
  std::time_t birth;
  // A message this run took from todo/ has a bounce/N only if it wrote one.
  if (auto k = known_.find(id); k != known_.end() && !k->second.bounce) return true;
  if (!getinfo(id, sender, birth)) return false;
  sender = bounce_target(sender);
  std::string bfn = path(Dir::bounce, id);
  auto entries = reactor::read_file(bfn, 64u << 20);
  if (!entries) {
    if (!entries.error().temporary && entries.error().text == "ENOENT") return true;
    warn("unable to stat " + rel(Dir::bounce, id));
    return false;
  }
  if (bounce_kind(sender) == BounceKind::triple) {
    world_.log->line("triple bounce: discarding " + rel(Dir::bounce, id));
  } else {
    bool single = !sender.empty();
    std::string to = single ? sender : controls_.doublebounceto + "@" + controls_.doublebouncehost;
    std::string mess = path(Dir::mess, id);
    std::time_t now = world_.clock->now();
    struct stat st;
    if (::stat(mess.c_str(), &st) != 0) {
      warn("unable to stat " + rel(Dir::mess, id));
      return false;
    }
    const unsigned long cap = controls_.bouncemaxbytes;
    const bool over = cap != 0 && static_cast<unsigned long>(st.st_size) > cap;
    BounceSpec b;
    b.date = date822_utc(now);
    b.bouncefrom = controls_.bouncefrom;
    b.bouncehost = controls_.bouncehost;
    b.to = to;
    b.sender = sender;
    b.entries = *entries;
    b.format = controls_.bounceformat;
    b.reporting_mta = controls_.me;
    b.arrival_date = date822_utc(birth);
    b.boundary_seed = std::to_string(id) + "." + std::to_string(now);
    b.is_local = [this](std::string_view r) { return delivered_locally(controls_, r); };
    BounceParts parts;
    if (!over) {
      // The whole message is streamed from mess/ between head and tail, so a
      // large bounce costs qmail-send no memory (QSBMF: qmail's bytes exactly).
      ReturnedCopy copy;
      copy.streamed_contains = [&mess](std::string_view s) { return file_contains(mess, s); };
      parts = compose_bounce_parts(b, copy);
    } else {
      // Past the cap only the header, found within the first `cap` bytes, is
      // returned; nothing else of the message is read.
      std::string msg;
      if (!read_prefix(mess, cap, msg)) {
        warn("unable to read " + rel(Dir::mess, id));
        return false;
      }
      parts = compose_bounce_parts(b, ReturnedCopy{message_header(msg, cap), true, cap, {}});
      mess = "/dev/null";  // the header is already in `head`
    }
    auto qp = world_.injector->inject(single ? "" : "#@[]", to, parts.head, mess, parts.tail);
    if (!qp) {
      warn("trouble injecting bounce message, will try later");
      return false;
    }
    world_.log->line("bounce msg " + std::to_string(id) + " qp " + std::to_string(*qp));
  }
  if (::unlink(bfn.c_str()) != 0) {
    warn("unable to unlink " + rel(Dir::bounce, id));
    return false;
  }
  return true;
}

void Scheduler::messdone(MsgId id) {
  struct stat st;
  auto retry = [&] { pqdone_.push({world_.clock->now() + kSleepSysfail, id}); };
  if (auto k = known_.find(id); k != known_.end()) {
    // Taken from todo/ in this run: todo/N is gone, info/N is there, and
    // which channel files remain is known without looking.
    if (k->second.live[0] || k->second.live[1]) return;
  } else {
    for (Dir d : {Dir::local, Dir::remote, Dir::todo}) {
      if (::stat(path(d, id).c_str(), &st) == 0) return;  // still work to do elsewhere
      if (errno != ENOENT) {
        warn("unable to stat " + rel(d, id) + "; will try again later");
        return retry();
      }
    }
    if (::stat(path(Dir::info, id).c_str(), &st) != 0) {
      if (errno == ENOENT) return;
      warn("unable to stat " + rel(Dir::info, id) + "; will try again later");
      return retry();
    }
  }
  if (!inject_bounce(id)) return retry();
  world_.log->line("end msg " + std::to_string(id));
  known_.erase(id);
  fin_.push_back(id);
}

bool Scheduler::finish_step() {
  // info/N goes before its foop/N is sent; a bounded number of messages are
  // between the two at once, so a crash strands at most kMaxFinishing
  // mess/N that qmail-clean had not removed yet (the cleanup finds them).
  if (fin_busy_ >= kMaxFinishing || fin_.empty()) return false;
  MsgId id = fin_.front();
  fin_.pop_front();
  ++fin_busy_;
  remove(Dir::info, id, [this, id](int err) {
    if (err && err != ENOENT) {
      --fin_busy_;
      warn("unable to unlink " + rel(Dir::info, id) + "; will try again later");
      pqdone_.push({world_.clock->now() + kSleepSysfail, id});
      return;
    }
    // No info, no todo: the message is gone as far as we care; mess/ goes via qmail-clean.
    clean_async({"foop/" + std::to_string(id)}, [this](const std::vector<int>&) { --fin_busy_; });
  });
  return true;
}

bool Scheduler::cleanup_step() {
  std::time_t now = world_.clock->now();
  if (!cleanup_active_) {
    if (now < cleanup_time_) return false;
    cleanup_active_ = true;
    cleanup_sub_ = 0;
  }
  if (!cleanup_dir_) {
    if (cleanup_sub_ >= kConfSplit) {
      cleanup_active_ = false;
      cleanup_time_ = now + kSleepCleanup;
      return false;
    }
    std::string d = world_.queue_dir + "/mess/" + std::to_string(cleanup_sub_++);
    cleanup_dir_ = ::opendir(d.c_str());
    return true;
  }
  struct dirent* de = ::readdir(cleanup_dir_);
  if (!de) {
    ::closedir(cleanup_dir_);
    cleanup_dir_ = nullptr;
    return true;
  }
  MsgId id;
  if (!parse_msgid(de->d_name, id)) return true;
  struct stat st;
  if (::stat(path(Dir::mess, id).c_str(), &st) != 0) return true;  // qmail-queue removed it
  if (now <= st.st_atime + kOssified) return true;
  // Debris of a qmail-queue that died: neither info nor todo refers to it.
  for (Dir d : {Dir::info, Dir::todo})
    if (::stat(path(d, id).c_str(), &st) == 0 || errno != ENOENT) return true;
  clean("foop/" + std::to_string(id));
  return true;
}

}  // namespace queue
