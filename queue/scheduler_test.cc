// Unit tests of qmail-send's scheduler with a fake clock, spawner, cleaner
// and bounce injector in a temporary queue directory.
#include "queue/scheduler.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <algorithm>
#include <doctest/doctest.h>

#include "reactor/fd.h"

using namespace std::literals;
namespace fs = std::filesystem;

namespace {

struct FakeClock : queue::Clock {
  std::time_t t = 1600000000;
  std::time_t now() override { return t; }
};

struct FakeSpawner : queue::Spawner {
  std::vector<std::pair<int, queue::proto::Request>> sent;
  bool dead[2] = {false, false};
  bool alive(int c) const override { return !dead[c]; }
  bool can_write(int) const override { return true; }
  void send(int c, const queue::proto::Request& r) override { sent.emplace_back(c, r); }
};

struct FakeCleaner : queue::CleanService {
  std::string dir;
  std::vector<std::string> reqs;
  int clean(const std::string& req) override {
    reqs.push_back(req);
    std::string n = req.substr(5);
    queue::MsgId id = std::stoull(n);
    ::unlink((dir + "/intd/" + n).c_str());
    if (req.compare(0, 5, "todo/") == 0) ::unlink((dir + "/todo/" + n).c_str());
    else ::unlink((dir + "/" + queue::msg_path(queue::Dir::mess, id)).c_str());
    return 1;
  }
};

// Holds every batch until the test lets it finish, as a syncer thread would.
struct FakeSyncer : queue::Syncer {
  struct Batch {
    std::vector<int> fds;
    std::function<void(bool)> done;
  };
  std::vector<Batch> pending;
  size_t batches = 0;
  void sync(std::vector<int> fds, std::function<void(bool)> done) override {
    ++batches;
    pending.push_back({std::move(fds), std::move(done)});
  }
  void finish(bool ok = true) {
    auto p = std::move(pending);
    pending.clear();
    for (auto& b : p) b.done(ok);
  }
};

// Holds every job until the test runs them, as the offload threads would.
struct FakeOffload : queue::Offload {
  struct Held {
    std::function<int()> job;
    std::function<void(int)> done;
  };
  std::vector<Held> pending;
  void run(unsigned long, std::function<int()> job, std::function<void(int)> done) override {
    pending.push_back({std::move(job), std::move(done)});
  }
  void finish() {
    auto p = std::move(pending);
    pending.clear();
    for (auto& h : p) h.done(h.job());
  }
};

struct Injected {
  std::string sender, recipient, head, mess, tail;
};
struct FakeInjector : queue::BounceInjector {
  std::vector<Injected> got;
  reactor::Result<long> inject(const std::string& s, const std::string& r, const std::string& h,
                               const std::string& m, const std::string& t) override {
    got.push_back({s, r, h, m, t});
    return 4242L;
  }
};

struct Fixture {
  std::string dir;
  FakeClock clock;
  FakeSpawner spawner;
  FakeCleaner cleaner;
  FakeInjector injector;
  std::string logtext;
  queue::SendLog log{[this](std::string_view s) { logtext += s; }};
  std::unique_ptr<queue::Scheduler> s;

  explicit Fixture(unsigned cl = 10) {
    char tmpl[] = "/tmp/evq-sched-XXXXXX";
    dir = ::mkdtemp(tmpl);
    for (auto d : {"todo", "intd", "bounce", "pid", "lock"}) fs::create_directories(dir + "/" + d);
    for (auto d : {"mess", "info", "local", "remote"})
      for (int i = 0; i < queue::kConfSplit; ++i) fs::create_directories(dir + "/" + d + "/" + std::to_string(i));
    cleaner.dir = dir;
    queue::Controls c;
    c.me = "me.example";
    c.locals = {"me.example"};
    c.envnoathost = c.bouncehost = c.doublebouncehost = "me.example";
    c.concurrency[0] = cl;
    c.virtualdomains = {{"virt.example", "v"}};
    rebuild(c, 120, 120);
  }
  ~Fixture() { fs::remove_all(dir); }
  // A new scheduler over the same queue, with other controls, spawner slots or a syncer.
  void rebuild(const queue::Controls& c, unsigned cap_local, unsigned cap_remote, queue::Syncer* sync = nullptr,
               queue::Offload* offload = nullptr) {
    unsigned cap[2] = {cap_local, cap_remote};
    s = std::make_unique<queue::Scheduler>(
        queue::SchedulerWorld{&clock, &spawner, &cleaner, &injector, &log, dir, sync, offload}, c, cap);
  }

  void put(const std::string& rel, const std::string& data) {
    std::ofstream(dir + "/" + rel, std::ios::binary) << data;
  }
  bool exists(const std::string& rel) const { return reactor::exists(dir + "/" + rel); }
  std::string read(const std::string& rel) const { return *reactor::read_file(dir + "/" + rel); }
  // A message as qmail-queue leaves it.
  void queue_msg(queue::MsgId id, const std::string& env) {
    put(queue::msg_path(queue::Dir::mess, id), "Received: x\n\nbody\n");
    put("intd/" + std::to_string(id), "u1000\0p77\0"s + env);
    put("todo/" + std::to_string(id), "u1000\0p77\0"s + env);
  }
  void run() {
    for (int i = 0; i < 1000 && s->step(); ++i) {}
  }
  void report(int c, size_t which, char st, const std::string& text) {
    s->on_report(c, queue::proto::Report{spawner.sent.at(which).second.slot, st, text});
    run();
  }
};

}  // namespace

TEST_CASE("scheduler: todo run, local delivery and completion") {
  Fixture f;
  f.queue_msg(46, "Fann@b.example\0Tjoe@me.example\0Tbob@far.example\0"s);
  f.s->trigger();
  f.run();
  CHECK_FALSE(f.exists("todo/46"));
  CHECK_FALSE(f.exists("intd/46"));
  CHECK(f.read("info/0/46") == "Fann@b.example\0"s);
  CHECK(f.read("local/0/46") == "Tjoe@me.example\0"s);
  CHECK(f.read("remote/0/46") == "Tbob@far.example\0"s);
  CHECK(f.logtext.find("new msg 46\ninfo msg 46: bytes 18 from <ann@b.example> qp 77 uid 1000\n") !=
        std::string::npos);
  REQUIRE(f.spawner.sent.size() == 2);
  CHECK(f.spawner.sent[0].first == 0);
  CHECK(f.spawner.sent[0].second.mess == "0/46");
  CHECK(f.spawner.sent[0].second.sender == "ann@b.example");
  CHECK(f.spawner.sent[0].second.recipient == "joe@me.example");
  CHECK(f.logtext.find("starting delivery 1: msg 46 to local joe@me.example\n") != std::string::npos);
  CHECK(f.s->used(0) == 1);
  f.report(0, 0, 'K', "did 0+0+1\n");
  CHECK(f.logtext.find("delivery 1: success: did_0+0+1/\n") != std::string::npos);
  CHECK_FALSE(f.exists("local/0/46"));
  CHECK(f.exists("info/0/46"));  // remote still pending
  f.report(1, 1, 'K', "ok\n");
  CHECK_FALSE(f.exists("remote/0/46"));
  CHECK_FALSE(f.exists("info/0/46"));
  CHECK_FALSE(f.exists("mess/0/46"));
  CHECK(f.logtext.find("end msg 46\n") != std::string::npos);
  CHECK(f.cleaner.reqs == std::vector<std::string>{"todo/46", "foop/46"});
  CHECK(f.injector.got.empty());
}

TEST_CASE("scheduler: a queue split by big-todo (todo/S/N) is read too") {
  Fixture f;
  f.put(queue::msg_path(queue::Dir::mess, 53), "Received: x\n\nbody\n");
  fs::create_directories(f.dir + "/todo/7");
  fs::create_directories(f.dir + "/intd/7");
  f.put("intd/7/53", "u1000\0p77\0Fa@b.example\0Tjoe@me.example\0"s);
  f.put("todo/7/53", "u1000\0p77\0Fa@b.example\0Tjoe@me.example\0"s);
  f.queue_msg(46, "Fann@b.example\0Tjoe@me.example\0"s);
  f.s->trigger();
  f.run();
  CHECK(f.read("local/7/53") == "Tjoe@me.example\0"s);
  CHECK(f.read("local/0/46") == "Tjoe@me.example\0"s);
  CHECK(f.logtext.find("new msg 53\n") != std::string::npos);
  CHECK(std::count(f.cleaner.reqs.begin(), f.cleaner.reqs.end(), "todo/53") == 1);
}

TEST_CASE("scheduler: failure bounces to the sender with the vdom prefix stripped") {
  Fixture f;
  f.queue_msg(23, "Fann@b.example\0Tx@virt.example\0Tok@me.example\0"s);
  f.s->trigger();
  f.run();
  REQUIRE(f.spawner.sent.size() == 2);
  CHECK(f.spawner.sent[0].second.recipient == "v-x@virt.example");
  f.report(0, 0, 'D', "Sorry, no mailbox here by that name. (#5.1.1)\n");
  CHECK(f.read("local/0/23") == "Dv-x@virt.example\0Tok@me.example\0"s);
  CHECK(f.read("bounce/23") == "<x@virt.example>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n");
  f.report(0, 1, 'K', "did 1\n");
  REQUIRE(f.injector.got.size() == 1);
  CHECK(f.injector.got[0].sender == "");
  CHECK(f.injector.got[0].recipient == "ann@b.example");
  CHECK(f.injector.got[0].head.find("To: ann@b.example\n") != std::string::npos);
  CHECK(f.injector.got[0].head.find("<x@virt.example>:\nSorry") != std::string::npos);
  CHECK(f.logtext.find("bounce msg 23 qp 4242\nend msg 23\n") != std::string::npos);
  CHECK_FALSE(f.exists("bounce/23"));
}

TEST_CASE("scheduler: double and triple bounces") {
  Fixture f;
  f.queue_msg(1, "F\0Tx@me.example\0"s);
  f.queue_msg(2, "F#@[]\0Ty@me.example\0"s);
  f.s->trigger();
  f.run();
  REQUIRE(f.spawner.sent.size() == 2);
  f.report(0, 0, 'D', "no");
  f.report(0, 1, 'D', "no");
  REQUIRE(f.injector.got.size() == 1);
  CHECK(f.injector.got[0].sender == "#@[]");
  CHECK(f.injector.got[0].recipient == "postmaster@me.example");
  CHECK(f.logtext.find("triple bounce: discarding bounce/") != std::string::npos);
  CHECK(f.logtext.find("end msg 1\n") != std::string::npos);
  CHECK(f.logtext.find("end msg 2\n") != std::string::npos);
}

TEST_CASE("scheduler: deferral retries on the quadratic schedule, then dies") {
  Fixture f;
  f.queue_msg(5, "Fann@b.example\0Tjoe@me.example\0"s);
  f.s->trigger();
  f.run();
  std::time_t birth = f.clock.t;
  REQUIRE(f.spawner.sent.size() == 1);
  f.report(0, 0, 'Z', "try later");
  CHECK(f.logtext.find("delivery 1: deferral: try_later\n") != std::string::npos);
  CHECK(f.s->next_wakeup() == birth + 100);
  f.clock.t = birth + 99;
  f.run();
  CHECK(f.spawner.sent.size() == 1);
  f.clock.t = birth + 100;
  f.run();
  REQUIRE(f.spawner.sent.size() == 2);
  f.report(0, 1, 'Z', "again");
  CHECK(f.s->next_wakeup() == birth + 400);
  // ALRM: due now
  f.s->run_now();
  f.run();
  REQUIRE(f.spawner.sent.size() == 3);
  // Past queuelifetime the next Z becomes D with qmail's sentence.
  f.clock.t = birth + 604801;
  f.report(0, 2, 'Z', "again\n");
  f.s->run_now();
  f.run();
  REQUIRE(f.spawner.sent.size() == 4);
  f.report(0, 3, 'Z', "still\n");
  CHECK(f.logtext.find("failure: still/I'm_not_going_to_try_again;_this_message_has_been_in_the_queue_too_long./") !=
        std::string::npos);
  REQUIRE(f.injector.got.size() == 1);
  CHECK(f.injector.got[0].head.find("<joe@me.example>:\nstill\nI'm not going to try again;") != std::string::npos);
}

TEST_CASE("scheduler: concurrency limit and exit writes mtimes") {
  Fixture f(2);
  f.queue_msg(7, "Fa@b\0T1@me.example\0T2@me.example\0T3@me.example\0"s);
  f.s->trigger();
  f.run();
  CHECK(f.spawner.sent.size() == 2);
  CHECK(f.s->used(0) == 2);
  f.report(0, 0, 'K', "ok");
  REQUIRE(f.spawner.sent.size() == 3);
  CHECK(f.spawner.sent[2].second.recipient == "3@me.example");
  CHECK(f.spawner.sent[2].second.slot == f.spawner.sent[0].second.slot);
  f.report(0, 1, 'Z', "later");
  f.s->exit_asap();
  CHECK_FALSE(f.s->can_exit());
  f.report(0, 2, 'K', "ok");
  CHECK(f.s->can_exit());
  f.s->finish();
  struct stat st;
  REQUIRE(::stat((f.dir + "/local/7/7").c_str(), &st) == 0);
  CHECK(st.st_mtime == f.clock.t + 100);
}

TEST_CASE("scheduler: startup scan uses channel-file mtimes") {
  Fixture f;
  f.put("mess/8/8", "x");
  f.put("info/8/8", "Fa@b\0"s);
  f.put("local/8/8", "Tq@me.example\0"s);
  struct utimbuf ut{f.clock.t + 50, f.clock.t + 50};
  ::utime((f.dir + "/local/8/8").c_str(), &ut);
  f.s->startup_scan();
  f.run();
  CHECK(f.spawner.sent.empty());
  CHECK(f.s->next_wakeup() == f.clock.t + 50);
  f.clock.t += 50;
  f.run();
  CHECK(f.spawner.sent.size() == 1);
}

TEST_CASE("scheduler: VERP sender per recipient and lost spawner") {
  Fixture f;
  f.queue_msg(9, "Flist-owner-@me.example-@[]\0Tjoe@me.example\0"s);
  f.s->trigger();
  f.run();
  REQUIRE(f.spawner.sent.size() == 1);
  CHECK(f.spawner.sent[0].second.sender == "list-owner-joe=me.example@me.example");
  f.s->spawn_lost(0);
  CHECK(f.logtext.find("alert: oh no! lost spawn connection! dying...\n") != std::string::npos);
  CHECK(f.s->exiting());
  CHECK(f.s->can_exit());
}

TEST_CASE("scheduler: todo entries are made durable in batches before qmail-clean removes them") {
  Fixture f;
  FakeSyncer sync;
  f.rebuild(f.s->controls(), 120, 120, &sync);
  const int n = static_cast<int>(queue::kTodoBatch) + 10;
  for (int i = 1; i <= n; ++i) f.queue_msg(static_cast<queue::MsgId>(100 + i), "Fa@b.example\0Tjoe@me.example\0"s);
  f.s->trigger();
  f.run();
  // The first entry syncs alone; the next batch fills up behind it and waits.
  REQUIRE(sync.pending.size() == 1);
  CHECK(sync.pending[0].fds.size() == 2);  // info and local
  CHECK(f.cleaner.reqs.empty());
  CHECK(f.spawner.sent.empty());
  int todo = 0, info = 0;
  for (int i = 1; i <= n; ++i) {
    todo += f.exists("todo/" + std::to_string(100 + i));
    info += f.exists("info/" + queue::split_name(static_cast<queue::MsgId>(100 + i)));
  }
  CHECK(todo == n);
  CHECK(info == static_cast<int>(queue::kTodoBatch) + 1);
  // A trigger during the sync does not start a second run over the same entries.
  f.s->trigger();
  f.run();
  CHECK(sync.pending.size() == 1);
  sync.finish();
  REQUIRE(f.cleaner.reqs.size() == 1);
  CHECK_FALSE(f.exists(f.cleaner.reqs[0]));
  f.run();
  REQUIRE(sync.pending.size() == 1);
  CHECK(sync.pending[0].fds.size() == 2 * queue::kTodoBatch);
  CHECK(f.spawner.sent.size() == 1);  // the first message is being delivered meanwhile
  f.report(0, 0, 'K', "did 1\n");
  CHECK(f.logtext.find("delivery 1: success") != std::string::npos);
  sync.finish();
  f.run();
  sync.finish();
  f.run();
  CHECK(sync.batches == 3);
  CHECK(f.cleaner.reqs.size() == static_cast<size_t>(n) + 1);  // + foop of the delivered one
  for (int i = 1; i <= n; ++i) CHECK_FALSE(f.exists("todo/" + std::to_string(100 + i)));
  CHECK(f.spawner.sent.size() == 11);  // the first, then concurrencylocal
}

TEST_CASE("scheduler: a failed sync leaves todo/N for the next run") {
  Fixture f;
  FakeSyncer sync;
  f.rebuild(f.s->controls(), 120, 120, &sync);
  f.queue_msg(46, "Fann@b.example\0Tjoe@me.example\0"s);
  f.s->trigger();
  f.run();
  sync.finish(false);
  f.run();
  CHECK(f.logtext.find("warning: trouble fsyncing info/0/46\n") != std::string::npos);
  CHECK(f.exists("todo/46"));
  CHECK(f.cleaner.reqs.empty());
  CHECK(f.spawner.sent.empty());
  f.s->trigger();
  f.run();
  sync.finish();
  f.run();
  CHECK_FALSE(f.exists("todo/46"));
  REQUIRE(f.spawner.sent.size() == 1);
  f.report(0, 0, 'K', "did 1\n");
  CHECK(f.logtext.find("end msg 46\n") != std::string::npos);
}

// Message 46 queued and its one local delivery started, removals held by `off`.
static void start_with_offload(Fixture& f, FakeOffload& off) {
  f.rebuild(f.s->controls(), 120, 120, nullptr, &off);
  f.queue_msg(46, "Fann@b.example\0Tjoe@me.example\0"s);
  f.s->trigger();
  f.run();
}

TEST_CASE("scheduler: removals off the loop keep their order, and foop/N waits for info/N's") {
  Fixture f;
  FakeOffload off;
  start_with_offload(f, off);
  REQUIRE(f.spawner.sent.size() == 1);
  f.report(0, 0, 'K', "did 1\n");
  // The channel file's removal is handed off: nothing else happens meanwhile.
  REQUIRE(off.pending.size() == 1);
  CHECK(f.exists("local/" + queue::split_name(46)));
  CHECK(f.logtext.find("end msg 46") == std::string::npos);
  CHECK_FALSE(f.s->can_exit());
  off.finish();
  f.run();
  CHECK_FALSE(f.exists("local/" + queue::split_name(46)));
  CHECK(f.logtext.find("end msg 46\n") != std::string::npos);
  // Then info/N, and only after it foop/N.
  REQUIRE(off.pending.size() == 1);
  CHECK(f.exists("info/" + queue::split_name(46)));
  CHECK(f.cleaner.reqs.size() == 1);  // todo/46 only
  off.finish();
  f.run();
  CHECK_FALSE(f.exists("info/" + queue::split_name(46)));
  REQUIRE(f.cleaner.reqs.size() == 2);
  CHECK(f.cleaner.reqs[1] == "foop/46");
  CHECK(f.s->can_exit());
}

TEST_CASE("scheduler: a failed removal off the loop is retried later") {
  Fixture f;
  FakeOffload off;
  start_with_offload(f, off);
  f.report(0, 0, 'K', "did 1\n");
  REQUIRE(off.pending.size() == 1);
  off.pending[0].job = [] { return EACCES; };
  off.finish();
  f.run();
  CHECK(f.logtext.find("warning: unable to unlink local/0/46; will try again later\n") != std::string::npos);
  CHECK(f.exists("local/" + queue::split_name(46)));
  CHECK(f.logtext.find("end msg 46") == std::string::npos);
}

TEST_CASE("scheduler: a delivery is marked done before its report is logged") {
  Fixture f;
  f.queue_msg(46, "Fann@b.example\0Tjoe@me.example\0Tbob@me.example\0"s);
  f.s->trigger();
  f.run();
  REQUIRE(f.spawner.sent.size() == 2);
  std::string local_at_log;
  f.log = queue::SendLog([&](std::string_view s) {
    f.logtext += s;
    if (s.find("delivery 1: success") != std::string_view::npos) local_at_log = f.read("local/0/46");
  });
  f.report(0, 0, 'K', "did 1\n");
  CHECK(local_at_log == "Djoe@me.example\0Tbob@me.example\0"s);
}

TEST_CASE("scheduler: more running jobs than channel files kept open still mark every delivery done") {
  Fixture f;
  queue::Controls c = f.s->controls();
  const unsigned n = queue::kMaxOpenChans + 44;
  c.concurrency[0] = 2 * n;
  f.rebuild(c, 2 * n, 20);
  for (unsigned i = 1; i <= n; ++i) f.queue_msg(1000 + i, "Fa@b.example\0Tjoe@me.example\0Tbob@me.example\0"s);
  f.s->trigger();
  f.run();
  // A pass walks one message's records: joe, then bob, then the next message.
  REQUIRE(f.spawner.sent.size() == 2 * n);
  for (size_t k = 0; k < 2 * n; k += 2) {
    REQUIRE(f.spawner.sent[k].second.recipient == "joe@me.example");
    f.report(0, k, 'K', "did 1\n");
  }
  for (unsigned i = 1; i <= n; ++i)
    CHECK(f.read(queue::msg_path(queue::Dir::local, 1000 + i)) == "Djoe@me.example\0Tbob@me.example\0"s);
  for (size_t k = 1; k < 2 * n; k += 2) f.report(0, k, 'K', "did 1\n");
  size_t ends = 0;
  for (size_t p = 0; (p = f.logtext.find("end msg ", p)) != std::string::npos; ++p) ++ends;
  CHECK(ends == n);
}

TEST_CASE("scheduler: files left by an interrupted todo step are replaced, none kept") {
  Fixture f;
  // A previous run died after writing info/N, local/N and remote/N for a
  // message whose envelope (re-read now) has a local recipient only.
  // (69 and 92 live in split directory 0.)
  f.queue_msg(69, "Fann@b.example\0Tjoe@me.example\0"s);
  f.put("info/0/69", "Fstale@x\0"s);
  f.put("local/0/69", "Tstale@me.example\0"s);
  f.put("remote/0/69", "Tstale@far.example\0"s);
  f.s->trigger();
  f.run();
  CHECK(f.read("info/0/69") == "Fann@b.example\0"s);
  CHECK(f.read("local/0/69") == "Tjoe@me.example\0"s);
  CHECK_FALSE(f.exists("remote/0/69"));
  REQUIRE(f.spawner.sent.size() == 1);
  CHECK(f.spawner.sent[0].second.recipient == "joe@me.example");
  f.report(0, 0, 'K', "did 0+0+1\n");
  CHECK_FALSE(f.exists("info/0/69"));
  CHECK(f.logtext.find("end msg 69\n") != std::string::npos);
}

TEST_CASE("scheduler: a message of this run ends when its last channel does, in either order") {
  Fixture f;
  f.queue_msg(92, "Fann@b.example\0Tjoe@me.example\0Tbob@far.example\0"s);
  f.s->trigger();
  f.run();
  REQUIRE(f.spawner.sent.size() == 2);
  // Remote first this time, then local.
  f.report(1, 1, 'K', "ok\n");
  CHECK_FALSE(f.exists("remote/0/92"));
  CHECK(f.exists("info/0/92"));
  CHECK(f.logtext.find("end msg 92\n") == std::string::npos);
  f.report(0, 0, 'K', "did 0+0+1\n");
  CHECK_FALSE(f.exists("local/0/92"));
  CHECK_FALSE(f.exists("info/0/92"));
  CHECK(f.logtext.find("end msg 92\n") != std::string::npos);
}
