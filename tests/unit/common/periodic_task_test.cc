#include "common/periodic_task.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace loyalty {
namespace {

using std::chrono::hours;

// Counts runs and lets the test wait for the n-th one.
class Runs {
 public:
  void Add() {
    {
      std::lock_guard lock(mu_);
      ++count_;
    }
    cv_.notify_all();
  }
  bool WaitFor(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return count_ >= n; });
  }
  int count() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

TEST(PeriodicTaskTest, RunsAtStartAndStopsWithoutWaitingOutTheInterval) {
  Runs runs;
  PeriodicTask task(hours(1), [&] { runs.Add(); });
  task.Start();
  ASSERT_TRUE(runs.WaitFor(1));
  task.Stop();  // would hang for an hour if the pause were a sleep
  task.Stop();  // a second call does nothing
  EXPECT_EQ(runs.count(), 1);
}

TEST(PeriodicTaskTest, WakeRunsAgainBeforeTheInterval) {
  Runs runs;
  PeriodicTask task(hours(1), [&] { runs.Add(); });
  task.Start();
  ASSERT_TRUE(runs.WaitFor(1));
  task.Wake();
  EXPECT_TRUE(runs.WaitFor(2));
}

TEST(PeriodicTaskTest, TheTaskChoosesItsPauseAndABackoffIgnoresWake) {
  Runs runs;
  PeriodicTask task([&]() -> PeriodicTask::Pause {
    runs.Add();
    if (runs.count() == 1) return {std::chrono::milliseconds(1)};  // short: runs again
    return {hours(1), /*wakeable=*/false};
  });
  task.Start();
  ASSERT_TRUE(runs.WaitFor(2));
  task.Wake();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(runs.count(), 2) << "a backoff is not cut short by Wake";
  task.Stop();  // but by Stop
}

TEST(PeriodicTaskTest, DestroyingStopsIt) {
  Runs runs;
  {
    PeriodicTask task(hours(1), [&] { runs.Add(); });
    task.Start();
    ASSERT_TRUE(runs.WaitFor(1));
  }
  EXPECT_EQ(runs.count(), 1);
}

}  // namespace
}  // namespace loyalty
