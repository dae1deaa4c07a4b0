// The outbox relay: publishes the records of the transactional outbox (common/outbox.h) in
// order with the idempotent producer, and deletes each one only after the broker
// acknowledged it. A record refused for good (too large, invalid) is moved to the outbox's
// dead letters (common/dead_letter.h) instead, so that it cannot hold up the records after
// it; docs/decisions.md has the ordering promise that results.
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
#include <utility>
#include <vector>

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
    std::string record_key;  // the member id: the order that must hold is per member
    // kRefused: refused for good; it becomes a dead letter when it reaches the front.
    enum class State { kWaiting, kAcked, kFailed, kRefused } state = State::kWaiting;
    std::string reason;  // of a refusal: KafkaErrorName, and librdkafka's message
    std::string error;
    // Produced with nothing else in flight, or refused by produce() itself: a refusal is
    // this record's own. The broker refuses whole batches, so a refusal of a record sent
    // with others only makes it a suspect (see suspects_until_).
    bool alone = false;
  };

  void Run();
  // Hands the producer records after cursor_ until kMaxInFlight are unretired; returns how
  // many.
  size_t ProduceMore();
  // Deletes the answered prefix of the window from the outbox: acknowledged records, and
  // refused ones, which move to the dead letters in the same write. On a failure at the
  // front, waits for every answer and rewinds cursor_ to the failed record.
  struct Retired {
    size_t acked = 0;
    bool failed = false;
  };
  // Adds the dead letter of a refused record (its key and value) to letters.
  void DeadLetter(const InFlight& entry, std::vector<std::pair<std::string, std::string>>& letters);
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
  // After the broker refused a batch for good: up to this key records are sent one at a
  // time, so that only the record at fault becomes a dead letter, not its batch mates.
  std::string suspects_until_;
  // The unretired messages, shared with the delivery callbacks (run by Poll and Flush on
  // the relay's thread), which may come after a shutdown stopped waiting for them.
  struct Window {
    std::deque<InFlight> entries;
    uint64_t first = 0;  // the sequence number of entries.front()
  };
  std::shared_ptr<Window> window_ = std::make_shared<Window>();

  prometheus::Family<prometheus::Counter>& published_family_;
  prometheus::Counter& failures_;
  prometheus::Family<prometheus::Counter>& dead_letters_;
  prometheus::Gauge& pending_;
};

}  // namespace loyalty
