// The notification domain core, as one facade over small modules: preferences
// (PreferenceBook), Telegram links, templates (TemplateBook), the delivery log, dispatch
// bookkeeping (DispatchQueue), daily caps and digests, and the flows that use them (the
// event intake, digest sending). No network here: it takes a Store, an Outbox (dead letters
// of undecodable events), a Clock and a seed, and the adapters drive it:
//   - the Kafka adapter hands batches of loyalty.events.v1 to ApplyBatch with its decoder,
//     which makes the dedupe records, the queued notifications and the next offsets durable
//     in one write;
//   - dispatcher threads TakeDue(channel) notifications, send them through the channel and
//     report each attempt with RecordAttempt, which records it durably and decides between
//     delivered, retry (backoff with jitter) and dead (permanent failure or last attempt).
// docs/architecture.md has the module map.
//
// Concurrency: one mutex orders all changes and guards every module. A change updates the
// in-memory state, stages its writes as one group, releases the mutex and waits until the
// group is durable; new notifications become visible to dispatchers only then.
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
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/event_stamp.h"
#include "common/input.h"
#include "common/outbox.h"
#include "common/principal.h"
#include "common/record_cache.h"
#include "common/staged_offsets.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/notification.pb.h"
#include "services/notification/core/commands.h"
#include "services/notification/core/daily_caps.h"
#include "services/notification/core/delivery_log.h"
#include "services/notification/core/digest_book.h"
#include "services/notification/core/digest_flow.h"
#include "services/notification/core/dispatch_queue.h"
#include "services/notification/core/event_intake.h"
#include "services/notification/core/modules.h"
#include "services/notification/core/notification_config.h"
#include "services/notification/core/policy.h"
#include "services/notification/core/preference_book.h"
#include "services/notification/core/redemption_client.h"
#include "services/notification/core/telegram_links.h"
#include "services/notification/core/template_book.h"
#include "services/notification/core/txn.h"

namespace loyalty::notification {

// The column families notification keeps (types.h says which module owns each).
std::vector<std::string> NotificationColumnFamilies();

class NotificationCore {
 public:
  NotificationCore(Store& store, Outbox& outbox, const Clock& clock, NotificationConfig config);

  StatusOr<v1::Preferences> SetPreferences(const Principal& caller,
                                           const v1::SetPreferencesRequest& request);
  StatusOr<v1::Preferences> GetPreferences(const std::string& member_id);

  StatusOr<v1::Template> SetTemplate(const Principal& caller,
                                     const v1::SetTemplateRequest& request);
  StatusOr<v1::Template> GetTemplate(const v1::GetTemplateRequest& request);

  StatusOr<v1::TelegramLinkCode> CreateTelegramLinkCode(
      const Principal& caller, const v1::CreateTelegramLinkCodeRequest& request);
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
  // The preference cache's counters and size, for the metrics.
  RecordCacheStats PreferenceCacheStats() const;
  CircuitBreaker::State BreakerState(const std::string& channel) const;
  // Called after changes that may have made something due (wakes dispatchers).
  void SetOnQueued(std::function<void()> on_queued) { on_queued_ = std::move(on_queued); }
  // Where expiring-soon messages find their reward suggestion (null: none, the default). Set
  // before the first ApplyBatch. ApplyBatch asks it outside the lock, before applying the
  // batch; a failed call leaves the message without a suggestion and skips the batch's other
  // calls, so that an unreachable redemption costs one deadline per batch at most.
  void SetRedemption(RedemptionClient* redemption) { redemption_ = redemption; }

 private:
  // A batch as the core reads it: record i's source, and its command (decoded into scratch
  // when it comes as bytes, so that only one decoded record is held at a time).
  struct Records {
    size_t size = 0;
    std::function<const InputMessage&(size_t)> source;
    std::function<const Command&(size_t, Command& scratch)> command;
  };

  template <typename Response, typename Request>
  StatusOr<Response> Idempotent(const char* method, const Principal& caller, const Request& request,
                                const std::string& key,
                                const std::function<StatusOr<Response>(Txn&)>& apply);
  uint64_t Stage(Txn& txn);
  // Waits for the write, then makes the new notifications visible to the dispatchers.
  void Finish(uint64_t ticket, Txn& txn);

  BatchResult Apply(const Records& records);
  // The offers of the members of the batch's expiring-soon events that will be told about
  // them. Called without the lock; takes it only briefly to read preferences.
  Offers FetchOffers(const Records& records);

  Store& store_;
  Outbox& outbox_;
  const Clock& clock_;
  const NotificationConfig config_;
  std::function<void()> on_queued_;
  RedemptionClient* redemption_ = nullptr;

  // Every module below is guarded by mu_ (the facade takes it for every call that reads or
  // changes them), except the reads of the store only that say so (TelegramLinks'
  // MemberOfChat, DeliveryLog::ReadPage, EventIntake::MayWantOffer).
  mutable std::mutex mu_;
  PreferenceBook prefs_;
  TelegramLinks links_;
  TemplateBook templates_;
  DeliveryLog log_;
  DispatchQueue queue_;
  DailyCaps caps_;
  DigestBook digests_;
  Modules modules_;
  EventIntake intake_;
  DigestFlow digest_flow_;
  StagedOffsets offsets_;  // guarded by mu_
};

}  // namespace loyalty::notification
