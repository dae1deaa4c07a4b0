// Timed work of a service (hold expiry, saga resumption, bonus payments, digests): one thread
// that runs a task, pauses, and runs it again until Stop. The pause is a condition-variable
// wait, so Stop is prompt (a service asked to stop does not wait out an interval) and Wake
// asks for the next run early.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace loyalty {

class PeriodicTask {
 public:
  // What a run asks for before the next one.
  struct Pause {
    std::chrono::milliseconds wait;
    // Whether Wake ends the pause early; false for a backoff that new work must not cut short
    // (a dependency is down).
    bool wakeable = true;
  };

  // Runs task, then waits interval; again until Stop. The first run is at Start.
  PeriodicTask(std::chrono::milliseconds interval, std::function<void()> task);
  // Runs task, then waits the pause it asks for; again until Stop.
  explicit PeriodicTask(std::function<Pause()> task);
  // Stops (see Stop).
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // Starts the thread; once.
  void Start();
  // Ends a wakeable pause now, or the next one at once if the task is running.
  void Wake();
  // Ends the pause and returns once the run in progress, if any, is over. Called from one
  // thread (the one that started it, or the destructor); a second call does nothing.
  void Stop();

 private:
  void Loop();

  std::function<Pause()> task_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool woken_ = false;     // guarded by mu_
  std::thread thread_;
};

}  // namespace loyalty
