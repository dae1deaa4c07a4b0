// Dispatch bookkeeping: which notifications are due on which channel, which are in flight,
// each channel's circuit breaker, and what an attempt's outcome means (delivered, retry
// after a backoff with jitter, or dead). The queue is stored as (channel, due, id) keys and
// kept in memory; the notifications themselves are the DeliveryLog's.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/store.h"
#include "loyalty/v1/notification.pb.h"
#include "services/notification/core/delivery_log.h"
#include "services/notification/core/notification_config.h"
#include "services/notification/core/policy.h"
#include "services/notification/core/txn.h"
#include "services/notification/core/types.h"

namespace loyalty::notification {

// What a channel adapter reports about one send.
struct SendResult {
  enum class Outcome { kOk, kTransient, kPermanent };
  Outcome outcome = Outcome::kTransient;
  std::string detail;
  int64_t latency_ms = 0;
};

// One recorded attempt, for metrics.
struct AttemptFacts {
  std::string kind;
  std::string channel;
  std::string outcome;  // delivered, retry, dead
  int64_t latency_ms = 0;
  int64_t end_to_end_ms = 0;  // created to delivered
  bool found = false;
};

// What follows an attempt, a pure decision: attempts counts this one.
enum class NextStep { kDelivered, kRetry, kDead };
NextStep DecideNext(SendResult::Outcome outcome, int attempts, int max_attempts);

class DispatchQueue {
 public:
  // Loads the queue and restores its notifications into log.
  DispatchQueue(const Store& store, DeliveryLog& log, const NotificationConfig& config);

  // Queues n for n.next_attempt_at_ms() in txn.
  void Schedule(Txn& txn, const v1::Notification& n) const;
  // Once n is durable: dispatchers may take it.
  void Index(const v1::Notification& n);
  // Notifications of channel due at now, at most limit, marked in flight. Nothing while the
  // channel's breaker is open; one in half-open.
  std::vector<v1::Notification> TakeDue(const std::string& channel, size_t limit, TimeMs now);
  // Records an attempt on a notification taken before, in txn, and decides what comes next.
  AttemptFacts Record(Txn& txn, const std::string& id, const SendResult& result, TimeMs now);
  CircuitBreaker::State BreakerState(const std::string& channel, TimeMs now) const;

 private:
  void Unschedule(Txn& txn, const v1::Notification& n);

  DeliveryLog& log_;
  const NotificationConfig& config_;
  Backoff backoff_;
  std::map<std::string, CircuitBreaker> breakers_;                          // by channel
  std::map<std::string, std::set<std::pair<int64_t, std::string>>> queue_;  // (due, id) by channel
  std::set<std::string> in_flight_;                                         // ids taken
};

}  // namespace loyalty::notification
