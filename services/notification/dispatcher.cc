#include "services/notification/dispatcher.h"

#include "common/log.h"

namespace loyalty::notification {

Dispatcher::Dispatcher(NotificationCore& core,
                       std::map<std::string, std::unique_ptr<Channel>> channels,
                       NotificationMetrics& metrics, int workers_per_channel)
    : core_(core),
      channels_(std::move(channels)),
      metrics_(metrics),
      workers_per_channel_(std::max(1, workers_per_channel)),
      ticker_(std::chrono::seconds(1), [this] { Tick(); }) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  running_ = true;
  for (const auto& [name, channel] : channels_) {
    for (int i = 0; i < workers_per_channel_; ++i)
      threads_.emplace_back([this, n = name] { Work(n); });
  }
  ticker_.Start();
}

void Dispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    running_ = false;
  }
  cv_.notify_all();
  ticker_.Stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Dispatcher::Wake() {
  {
    std::lock_guard lock(mu_);
    ++wakeups_;
  }
  cv_.notify_all();
}

void Dispatcher::Work(const std::string& name) {
  Channel& channel = *channels_.at(name);
  while (running_) {
    uint64_t seen;
    {
      std::lock_guard lock(mu_);
      seen = wakeups_;
    }
    std::vector<v1::Notification> due = core_.TakeDue(name, 8);
    for (const auto& n : due) {
      // Finish what was taken even when stopping: an attempt in flight is recorded.
      SendResult result = channel.Send(n);
      AttemptFacts facts = core_.RecordAttempt(n.notification_id(), result);
      metrics_.ObserveAttempt(facts);
      if (facts.outcome != "delivered") {
        LogWarn("delivery attempt failed", {{"notification_id", n.notification_id()},
                                            {"outcome", facts.outcome},
                                            {"detail", result.detail}});
      }
    }
    if (!due.empty()) continue;
    // Due times are not signalled: poll them every 100 ms, sooner when something is queued.
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(100),
                 [&] { return !running_ || wakeups_ != seen; });
  }
}

void Dispatcher::Tick() {
  core_.FlushDigests();
  metrics_.SetQueueDepth(core_.QueueDepth());
  for (const char* c : kChannels) {
    metrics_.SetBreaker(c, core_.BreakerState(c) != CircuitBreaker::State::kClosed);
  }
}

}  // namespace loyalty::notification
