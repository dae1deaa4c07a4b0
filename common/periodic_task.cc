#include "common/periodic_task.h"

#include <cassert>
#include <utility>

namespace loyalty {

PeriodicTask::PeriodicTask(std::chrono::milliseconds interval, std::function<void()> task)
    : task_([interval, task = std::move(task)] {
        task();
        return Pause{interval};
      }) {}

PeriodicTask::PeriodicTask(std::function<Pause()> task) : task_(std::move(task)) {}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Start() {
  assert(!thread_.joinable());
  thread_ = std::thread([this] { Loop(); });
}

void PeriodicTask::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void PeriodicTask::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void PeriodicTask::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    woken_ = false;  // a Wake from now on asks for the run after this one
    lock.unlock();
    Pause pause = task_();
    lock.lock();
    cv_.wait_for(lock, pause.wait, [&] { return stopping_ || (pause.wakeable && woken_); });
  }
}

}  // namespace loyalty
