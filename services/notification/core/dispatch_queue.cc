#include "services/notification/core/dispatch_queue.h"

#include "common/check.h"
#include "common/key_codec.h"
#include "services/notification/core/templates.h"

namespace loyalty::notification {
namespace {

std::string QueueKey(const std::string& channel, int64_t due_ms, const std::string& id) {
  std::string key;
  keys::AppendString(key, channel);
  keys::AppendI64(key, due_ms);
  keys::AppendString(key, id);
  return key;
}

const char* AttemptOutcome(SendResult::Outcome outcome) {
  switch (outcome) {
    case SendResult::Outcome::kOk:
      return "ok";
    case SendResult::Outcome::kPermanent:
      return "permanent";
    case SendResult::Outcome::kTransient:
      return "transient";
  }
  return "transient";
}

}  // namespace

NextStep DecideNext(SendResult::Outcome outcome, int attempts, int max_attempts) {
  LOYALTY_CHECK(attempts >= 1, "attempts " + std::to_string(attempts));
  switch (outcome) {
    case SendResult::Outcome::kOk:
      return NextStep::kDelivered;
    case SendResult::Outcome::kPermanent:
      return NextStep::kDead;  // this address will never work
    case SendResult::Outcome::kTransient:
      return attempts >= max_attempts ? NextStep::kDead : NextStep::kRetry;
  }
  return NextStep::kDead;
}

DispatchQueue::DispatchQueue(const Store& store, DeliveryLog& log, const NotificationConfig& config)
    : log_(log), config_(config), backoff_(config.backoff, config.seed) {
  for (const char* c : kChannels) breakers_.emplace(c, CircuitBreaker(config_.breaker));
  store.Scan(cf::kQueue, "", "", [&](std::string_view key, std::string_view) {
    size_t pos = 0;
    std::string channel, id;
    keys::ReadString(key, pos, channel);
    int64_t due = keys::ReadI64(key, pos);
    pos += 8;
    keys::ReadString(key, pos, id);
    if (v1::Notification n; log_.Load(id, &n)) {
      log_.Restore(std::move(n));
      queue_[channel].emplace(due, id);
    }
    return true;
  });
}

void DispatchQueue::Schedule(Txn& txn, const v1::Notification& n) const {
  txn.Put(cf::kQueue, QueueKey(n.channel(), n.next_attempt_at_ms(), n.notification_id()), "");
}

void DispatchQueue::Index(const v1::Notification& n) {
  queue_[n.channel()].emplace(n.next_attempt_at_ms(), n.notification_id());
}

void DispatchQueue::Unschedule(Txn& txn, const v1::Notification& n) {
  queue_[n.channel()].erase({n.next_attempt_at_ms(), n.notification_id()});
  txn.Erase(cf::kQueue, QueueKey(n.channel(), n.next_attempt_at_ms(), n.notification_id()));
}

std::vector<v1::Notification> DispatchQueue::TakeDue(const std::string& channel, size_t limit,
                                                     TimeMs now) {
  std::vector<v1::Notification> due;
  int64_t now_ms = now.value();
  auto q = queue_.find(channel);
  if (q == queue_.end() || q->second.empty() || q->second.begin()->first > now_ms) return due;
  CircuitBreaker& breaker = breakers_.at(channel);
  bool was_closed = breaker.state(now_ms) == CircuitBreaker::State::kClosed;
  if (!breaker.Allow(now_ms)) return due;
  if (!was_closed) limit = 1;  // half-open: a single trial
  for (const auto& [due_ms, id] : q->second) {
    if (due_ms > now_ms || due.size() >= limit) break;
    if (in_flight_.count(id)) continue;
    const v1::Notification* n = log_.FindPending(id);
    if (n == nullptr) continue;
    in_flight_.insert(id);
    due.push_back(*n);
  }
  if (due.empty()) breaker.Release();
  return due;
}

AttemptFacts DispatchQueue::Record(Txn& txn, const std::string& id, const SendResult& result,
                                   TimeMs now) {
  AttemptFacts facts;
  in_flight_.erase(id);
  v1::Notification* found = log_.FindPending(id);
  if (found == nullptr) return facts;
  v1::Notification& n = *found;
  facts.found = true;
  facts.kind = n.kind();
  facts.channel = n.channel();
  facts.latency_ms = result.latency_ms;
  v1::DeliveryAttempt* attempt = n.add_attempts();
  attempt->set_at_ms(now.value());
  attempt->set_latency_ms(result.latency_ms);
  attempt->set_detail(result.detail);
  attempt->set_outcome(AttemptOutcome(result.outcome));
  // A permanent failure means the endpoint answered: the channel is healthy.
  CircuitBreaker& breaker = breakers_.at(n.channel());
  if (result.outcome == SendResult::Outcome::kTransient) {
    breaker.OnTransientFailure(now.value());
  } else {
    breaker.OnSuccess();
  }
  Unschedule(txn, n);
  NextStep next = DecideNext(result.outcome, n.attempts_size(), config_.max_attempts);
  if (next == NextStep::kDelivered) {
    AdvanceStatus(n, kStatusDelivered);
    n.set_delivered_at_ms(now.value());
    facts.outcome = "delivered";
    facts.end_to_end_ms = now.value() - n.created_at_ms();
  } else if (next == NextStep::kDead) {
    AdvanceStatus(n, kStatusDead);
    facts.outcome = "dead";
  } else {
    n.set_next_attempt_at_ms(now.value() + backoff_.DelayMs(n.attempts_size()));
    facts.outcome = "retry";
  }
  log_.Save(txn, n, now);  // a final n is gone from here on
  if (next == NextStep::kRetry) {
    Schedule(txn, n);
    Index(n);
  }
  return facts;
}

CircuitBreaker::State DispatchQueue::BreakerState(const std::string& channel, TimeMs now) const {
  auto it = breakers_.find(channel);
  if (it == breakers_.end()) return CircuitBreaker::State::kClosed;
  return it->second.state(now.value());
}

}  // namespace loyalty::notification
