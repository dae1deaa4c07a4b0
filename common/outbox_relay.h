// The outbox relay: publishes the records of the transactional outbox (common/outbox.h) in
// order with the idempotent producer, and deletes each one only after the broker
// acknowledged it.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/kafka.h"
#include "common/outbox.h"
#include "common/store.h"

namespace loyalty {

class OutboxRelay {
 public:
  OutboxRelay(Store& store, const Outbox& outbox, KafkaProducer& producer,
              prometheus::Registry& registry);
  ~OutboxRelay();

  void Start();
  void Stop();
  // Wakes the relay after a commit that added records.
  void Notify();
  // Records still waiting in the outbox (a scan, for tests).
  uint64_t Pending() const;

 private:
  // One message handed to the producer and not yet retired, in outbox order.
  struct InFlight {
    std::string key;
    std::string topic;
    enum class State { kWaiting, kAcked, kFailed } state = State::kWaiting;
  };

  void Run();
  // Hands the producer records after cursor_ until kMaxInFlight are unretired; returns how
  // many.
  size_t ProduceMore();
  // Deletes the acknowledged prefix of the window from the outbox. On a failure at the
  // front, waits for every answer and rewinds cursor_ to the failed record.
  struct Retired {
    size_t acked = 0;
    bool failed = false;
  };
  Retired RetireAnswered();
  // Records not yet acknowledged, from the oldest unretired to the newest added: the
  // outbox_pending gauge, from key numbers alone.
  uint64_t Backlog() const;

  Store& store_;
  const Outbox& outbox_;
  KafkaProducer& producer_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::mutex mu_;  // guards notified_ (the wake-up); the rest is the relay thread's own
  std::condition_variable cv_;
  bool notified_ = false;  // guarded by mu_
  std::string cursor_;     // the first key not yet handed to the producer
  // The unretired messages, shared with the delivery callbacks (run by Poll and Flush on
  // the relay's thread), which may come after a shutdown stopped waiting for them.
  struct Window {
    std::deque<InFlight> entries;
    uint64_t first = 0;  // the sequence number of entries.front()
  };
  std::shared_ptr<Window> window_ = std::make_shared<Window>();

  prometheus::Family<prometheus::Counter>& published_family_;
  prometheus::Counter& failures_;
  prometheus::Gauge& pending_;
};

}  // namespace loyalty
