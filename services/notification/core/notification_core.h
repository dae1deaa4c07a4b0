// The notification domain core: member preferences, templates, the delivery queue and log,
// digests and Telegram chat links. No network here: it takes a Store, an Outbox (dead
// letters of undecodable events), a Clock and a seed, and the adapters drive it:
//   - the Kafka adapter hands batches of loyalty.events.v1 to ApplyBatch with its decoder
//     (a typed command per record), which makes the dedupe records, the queued
//     notifications and the next offsets durable in one write;
//   - dispatcher threads TakeDue(channel) notifications, send them through the channel and
//     report each attempt with RecordAttempt, which records it durably and decides between
//     delivered, retry (backoff with jitter) and dead (permanent failure or last attempt).
//
// A notification's id is "<event_id>|<channel>", so an event creates at most one
// notification per channel however often it is replayed; one that was delivered is never
// queued again.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/event_stamp.h"
#include "common/input.h"
#include "common/outbox.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/notification.pb.h"
#include "loyalty/v1/notification_internal.pb.h"
#include "services/notification/core/commands.h"
#include "services/notification/core/policy.h"
#include "services/notification/core/redemption_client.h"
#include "services/notification/core/templates.h"

namespace loyalty::notification {

std::vector<std::string> NotificationColumnFamilies();
// Deletes the daily-cap counters of days over; returns how many (a retention sweep).
int64_t SweepOldDayCounts(Store& store, int64_t now_ms);

struct NotificationConfig {
  std::set<std::string> disabled_kinds;  // switched off for the whole program
  std::string default_language = "en";
  int max_attempts = 6;
  BackoffOptions backoff;
  BreakerOptions breaker;
  uint64_t seed = 1;  // of the retry jitter
  int64_t link_code_ttl_ms = 15 * 60 * 1000;

  // notification.disabled_kinds (comma-separated), notification.default_language,
  // notification.max_attempts, notification.backoff_base_ms, notification.backoff_max_ms,
  // notification.breaker_failures, notification.breaker_open_ms, notification.seed,
  // notification.link_code_ttl_ms.
  static StatusOr<NotificationConfig> FromConfig(const Config& config);
};

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

class NotificationCore {
 public:
  NotificationCore(Store& store, Outbox& outbox, const Clock& clock, NotificationConfig config);

  StatusOr<v1::Preferences> SetPreferences(const v1::SetPreferencesRequest& request);
  StatusOr<v1::Preferences> GetPreferences(const std::string& member_id);

  StatusOr<v1::Template> SetTemplate(const v1::SetTemplateRequest& request);
  StatusOr<v1::Template> GetTemplate(const v1::GetTemplateRequest& request);

  StatusOr<v1::TelegramLinkCode> CreateTelegramLinkCode(
      const v1::CreateTelegramLinkCodeRequest& request);
  // Uses a link code from the bot: the chat becomes the member's telegram address and the
  // telegram channel is enabled. Returns the member id.
  StatusOr<std::string> LinkTelegramChat(const std::string& code, const std::string& chat_id);
  std::optional<std::string> MemberOfChat(const std::string& chat_id);

  StatusOr<v1::ListNotificationsResponse> ListNotifications(
      const v1::ListNotificationsRequest& request);

  // Applies records of loyalty.events.v1, each decoded by decode as it comes, with their
  // offsets, in one durable write. Records that cannot be applied become dead-letter records
  // in the same write.
  BatchResult ApplyBatch(const std::vector<InputMessage>& batch, const Decoder& decode);
  // The same for input decoded already.
  BatchResult ApplyBatch(const std::vector<Input>& inputs);
  std::map<TopicPartition, int64_t> StoredOffsets() const;

  // Turns the digests whose time came into notifications; returns how many digests.
  int FlushDigests();
  // Notifications of channel due now, at most limit, marked in flight so that no other
  // dispatcher takes them. Nothing while the channel's breaker is open; one in half-open.
  std::vector<v1::Notification> TakeDue(const std::string& channel, size_t limit);
  // Records an attempt durably and decides what comes next.
  AttemptFacts RecordAttempt(const std::string& notification_id, const SendResult& result);

  int64_t QueueDepth() const;
  CircuitBreaker::State BreakerState(const std::string& channel) const;
  // Called after changes that may have made something due (wakes dispatchers).
  void SetOnQueued(std::function<void()> on_queued) { on_queued_ = std::move(on_queued); }
  // Where expiring-soon messages find their reward suggestion (null: none, the default). Set
  // before the first ApplyBatch. ApplyBatch asks it outside the lock, before applying the
  // batch; a failed call leaves the message without a suggestion and skips the batch's other
  // calls, so that an unreachable redemption costs one deadline per batch at most.
  void SetRedemption(RedemptionClient* redemption) { redemption_ = redemption; }

 private:
  struct Txn;
  using Digest = v1::notificationinternal::Digest;

  template <typename Response, typename Request>
  StatusOr<Response> Idempotent(const char* method, const Request& request, const std::string& key,
                                const std::function<StatusOr<Response>(Txn&)>& apply);
  uint64_t Stage(Txn& txn);
  // Waits for the write, then makes the new notifications visible to the dispatchers.
  void Finish(uint64_t ticket, Txn& txn);

  v1::Preferences* FindPrefs(const std::string& member_id);
  using Offers = std::map<std::string, v1::ListRewardsResponse>;  // by member
  // A batch as the core reads it: record i's source, and its command (decoded into scratch
  // when it comes as bytes, so that only one decoded record is held at a time).
  struct Records {
    size_t size = 0;
    std::function<const InputMessage&(size_t)> source;
    std::function<const Command&(size_t, Command& scratch)> command;
  };
  BatchResult Apply(const Records& records);
  void ApplyRecord(Txn& txn, const InputMessage& source, const Command& command,
                   const Offers& offers, BatchResult& result);
  // The offers of the members of the batch's expiring-soon events that will be told about
  // them. Called without the lock; takes it only briefly to read preferences.
  Offers FetchOffers(const Records& records);
  void HandleEvent(Txn& txn, const v1::LoyaltyEvent& event, const Offers& offers,
                   BatchResult& result);
  bool Wants(const v1::Preferences* prefs, const std::string& kind) const;
  void Enqueue(Txn& txn, const v1::Preferences& prefs, const std::string& kind,
               const std::string& event_id, const Vars& vars, bool transactional, int64_t due_ms,
               BatchResult* result);
  void DeadLetter(Txn& txn, const InputMessage& message, const std::string& kind,
                  const std::string& reason);
  int64_t& DayCount(Txn& txn, const std::string& member_id, int64_t day);
  std::string LanguageOf(const v1::Preferences& prefs) const;

  Store& store_;
  Outbox& outbox_;
  const Clock& clock_;
  NotificationConfig config_;
  std::function<void()> on_queued_;
  RedemptionClient* redemption_ = nullptr;

  mutable std::mutex mu_;
  TemplateSet templates_;
  Backoff backoff_;
  std::map<std::string, CircuitBreaker> breakers_;
  std::unordered_map<std::string, v1::Preferences> prefs_;  // loaded on first use
  std::map<std::pair<std::string, int64_t>, int64_t> day_counts_;
  std::map<std::string, Digest> digests_;                                   // all, loaded on start
  std::map<std::string, v1::Notification> pending_;                         // queued, by id
  std::map<std::string, std::set<std::pair<int64_t, std::string>>> queue_;  // by channel
  std::set<std::string> in_flight_;
  std::map<TopicPartition, int64_t> offsets_;
};

}  // namespace loyalty::notification
