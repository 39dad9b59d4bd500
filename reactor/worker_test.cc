// Unit tests of reactor::WorkerPool.
#include "reactor/worker.h"

#include <atomic>
#include <chrono>
#include <doctest/doctest.h>
#include <thread>
#include <vector>

#include "reactor/loop.h"

using namespace reactor;

namespace {
// Runs the loop until `cond` holds or 5 seconds have gone.
template <class F>
bool run_until(Loop& loop, F cond) {
  Timer tick(loop, [] {});
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) return false;
    tick.start(0.01);
    loop.run_once();
  }
  return true;
}
}  // namespace

TEST_CASE("WorkerPool: results come back on the loop, in order for one key") {
  Loop loop;
  WorkerPool pool(loop, 2);
  std::thread::id loop_thread = std::this_thread::get_id();
  std::vector<int> got[2];
  bool off_loop = true, on_loop = true;
  int afters = 0;
  pool.after = [&] { ++afters; };
  for (int i = 0; i < 200; ++i) {
    unsigned key = static_cast<unsigned>(i % 2);
    pool.run(key, [&, i] {
      if (std::this_thread::get_id() == loop_thread) off_loop = false;
      return i;
    }, [&, key](int r) {
      if (std::this_thread::get_id() != loop_thread) on_loop = false;
      got[key].push_back(r);
    });
  }
  CHECK(pool.pending() > 0);
  REQUIRE(run_until(loop, [&] { return got[0].size() + got[1].size() == 200; }));
  CHECK(pool.pending() == 0);
  CHECK(off_loop);
  CHECK(on_loop);
  CHECK(afters > 0);
  for (unsigned k = 0; k < 2; ++k) {
    REQUIRE(got[k].size() == 100);
    for (size_t j = 0; j < 100; ++j) CHECK(got[k][j] == static_cast<int>(2 * j + k));
  }
}

TEST_CASE("WorkerPool: a slow job of one key does not hold up another key") {
  Loop loop;
  WorkerPool pool(loop, 2);
  std::atomic<bool> release{false};
  bool slow_done = false, fast_done = false;
  pool.run(0, [&] {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return 0;
  }, [&](int) { slow_done = true; });
  pool.run(1, [] { return 1; }, [&](int) { fast_done = true; });
  REQUIRE(run_until(loop, [&] { return fast_done; }));
  CHECK_FALSE(slow_done);
  release = true;
  REQUIRE(run_until(loop, [&] { return slow_done; }));
}

TEST_CASE("WorkerPool: the destructor lets every job given run") {
  std::atomic<int> ran{0};
  {
    Loop loop;
    WorkerPool pool(loop, 1);
    for (int i = 0; i < 50; ++i) pool.run(0, [&] { return ++ran; }, [](int) {});
  }
  CHECK(ran == 50);
}
