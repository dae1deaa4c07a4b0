// Dispatcher threads: per channel, workers take the due notifications from the core, send
// them through the channel adapter (outside any lock) and record each attempt. A ticker
// flushes digests and refreshes the gauges. Everything stops with Stop().
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/periodic_task.h"
#include "services/notification/channels/channels.h"
#include "services/notification/core/notification_core.h"
#include "services/notification/notification_metrics.h"

namespace loyalty::notification {

class Dispatcher {
 public:
  Dispatcher(NotificationCore& core, std::map<std::string, std::unique_ptr<Channel>> channels,
             NotificationMetrics& metrics, int workers_per_channel);
  ~Dispatcher();
  void Start();
  void Stop();
  // Wakes idle workers (something was queued).
  void Wake();

 private:
  void Work(const std::string& channel);
  void Tick();  // digests and gauges, once a second

  NotificationCore& core_;
  std::map<std::string, std::unique_ptr<Channel>> channels_;
  NotificationMetrics& metrics_;
  int workers_per_channel_;
  std::atomic<bool> running_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t wakeups_ = 0;
  std::vector<std::thread> threads_;
  PeriodicTask ticker_;
};

}  // namespace loyalty::notification
