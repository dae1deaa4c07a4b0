#include "services/notification/core/notification_core.h"

#include <set>
#include <variant>

#include "common/audit_log.h"
#include "common/field_limits.h"
#include "common/idempotent.h"
#include "common/key_codec.h"
#include "common/log.h"
#include "loyalty/v1/internal.pb.h"
#include "services/notification/core/types.h"
#include "services/notification/core/validation.h"

namespace loyalty::notification {

std::vector<std::string> NotificationColumnFamilies() {
  return {cf::kPrefs,       cf::kNotifications, cf::kQueue,     cf::kMemberLog, cf::kSeen,
          cf::kDayCounts,   cf::kDigests,       cf::kTemplates, cf::kLinkCodes, cf::kChats,
          cf::kDeadLetters, cf::kIdempotency,   cf::kOffsets,   kOutboxCf,      kAuditCf};
}

NotificationCore::NotificationCore(Store& store, Outbox& outbox, const Clock& clock,
                                   NotificationConfig config)
    : store_(store),
      outbox_(outbox),
      clock_(clock),
      config_(std::move(config)),
      prefs_(store_, config_, config_.preference_cache_bytes),
      links_(store_, config_),
      templates_(store_),
      log_(store_),
      queue_(store_, log_, config_),
      caps_(store_),
      digests_(store_),
      modules_{config_, clock_, store_, prefs_, links_, templates_, log_, queue_, caps_, digests_},
      intake_(modules_),
      digest_flow_(modules_),
      offsets_(store_, cf::kOffsets) {}

uint64_t NotificationCore::Stage(Txn& txn) {
  uint64_t ticket = store_.Stage([&](StagedWrite& write) { txn.WriteTo(write, outbox_); });
  // The transaction is over: no pointer into the caches is held past this point.
  caps_.Staged();
  prefs_.Trim();
  return ticket;
}

void NotificationCore::Finish(uint64_t ticket, Txn& txn) {
  store_.WaitDurable(ticket);
  if (txn.created.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (auto& n : txn.created) {
      queue_.Index(n);
      log_.Publish(std::move(n));
    }
  }
  if (on_queued_) on_queued_();
}

template <typename Response, typename Request>
StatusOr<Response> NotificationCore::Idempotent(
    const char* method, const Principal& caller, const Request& request, const std::string& key,
    const std::function<StatusOr<Response>(Txn&)>& apply) {
  // The administrative calls leave an audit record in the same write (common/audit_log.h).
  auto apply_and_audit = AuditedApply<Response, Txn>(
      IsAudited(method, {"SetTemplate"}), "notification", "/loyalty.v1.NotificationService/",
      method, caller, request, clock_.NowMs(), apply);
  auto outcome = RunIdempotent<v1::internal::IdempotencyRecord, Response, Txn>(
      store_, mu_, clock_.NowMs(), method, caller, request, key, apply_and_audit,
      [this](Txn& txn) { return Stage(txn); });
  if (outcome.ticket != 0) Finish(outcome.ticket, outcome.txn);
  return std::move(outcome.result);
}

StatusOr<v1::Preferences> NotificationCore::SetPreferences(
    const Principal& caller, const v1::SetPreferencesRequest& request) {
  return Idempotent<v1::Preferences>("SetPreferences", caller, request, request.idempotency_key(),
                                     [&](Txn& txn) -> StatusOr<v1::Preferences> {
                                       return prefs_.Set(txn, request.preferences(),
                                                         TimeMs(clock_.NowMs()));
                                     });
}

StatusOr<v1::Preferences> NotificationCore::GetPreferences(const std::string& member_id) {
  if (member_id.empty()) return InvalidArgument("member_id: required");
  std::lock_guard lock(mu_);
  prefs_.Trim();  // reads fill the cache too
  const v1::Preferences* p = prefs_.Find(MemberId(member_id));
  if (p == nullptr) return NotFound("member_id: no preferences for '" + Quote(member_id) + "'");
  return *p;
}

StatusOr<v1::Template> NotificationCore::SetTemplate(const Principal& caller,
                                                     const v1::SetTemplateRequest& request) {
  return Idempotent<v1::Template>(
      "SetTemplate", caller, request, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<v1::Template> { return templates_.Set(txn, request.template_()); });
}

StatusOr<v1::Template> NotificationCore::GetTemplate(const v1::GetTemplateRequest& request) {
  Status s = TemplateBook::CheckLookup(request.kind(), request.channel(), request.language());
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  return templates_.Get(request.kind(), request.channel(), request.language());
}

StatusOr<v1::TelegramLinkCode> NotificationCore::CreateTelegramLinkCode(
    const Principal& caller, const v1::CreateTelegramLinkCodeRequest& request) {
  return Idempotent<v1::TelegramLinkCode>(
      "CreateTelegramLinkCode", caller, request, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<v1::TelegramLinkCode> {
        return links_.CreateCode(txn, request.member_id(), TimeMs(clock_.NowMs()));
      });
}

StatusOr<std::string> NotificationCore::LinkTelegramChat(const std::string& code,
                                                         const std::string& chat_id) {
  if (!ValidChatId(chat_id)) return InvalidArgument("chat_id: not a Telegram chat id");
  Txn txn;
  uint64_t ticket = 0;
  MemberId member;
  {
    std::lock_guard lock(mu_);
    TimeMs now(clock_.NowMs());
    StatusOr<MemberId> used = links_.UseCode(txn, code, now);
    if (!used.ok()) return used.status();
    member = *used;
    prefs_.AttachTelegram(txn, member, chat_id, now);
    links_.LinkChat(txn, chat_id, member);
    ticket = Stage(txn);
  }
  Finish(ticket, txn);
  return member.value();
}

std::optional<std::string> NotificationCore::MemberOfChat(const std::string& chat_id) {
  std::optional<MemberId> member = links_.MemberOfChat(chat_id);  // the store only: no lock
  if (!member) return std::nullopt;
  return member->value();
}

StatusOr<v1::ListNotificationsResponse> NotificationCore::ListNotifications(
    const v1::ListNotificationsRequest& request) {
  StatusOr<LogPage> page = log_.ReadPage(request);  // the store only: no lock
  if (!page.ok()) return page.status();
  std::lock_guard lock(mu_);
  return log_.Resolve(*page);
}

std::map<TopicPartition, int64_t> NotificationCore::StoredOffsets() const {
  std::lock_guard lock(mu_);
  return offsets_.next();
}

BatchResult NotificationCore::ApplyBatch(const std::vector<InputMessage>& batch,
                                         const Decoder& decode) {
  return Apply(Records{
      batch.size(), [&](size_t i) -> const InputMessage& { return batch[i]; },
      [&](size_t i, Command& scratch) -> const Command& { return scratch = decode(batch[i]); }});
}

BatchResult NotificationCore::ApplyBatch(const std::vector<Input>& inputs) {
  return Apply(Records{inputs.size(),
                       [&](size_t i) -> const InputMessage& { return inputs[i].source; },
                       [&](size_t i, Command&) -> const Command& { return inputs[i].command; }});
}

BatchResult NotificationCore::Apply(const Records& records) {
  BatchResult result;
  Offers offers = FetchOffers(records);
  Txn txn;
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    Command scratch;
    for (size_t i = 0; i < records.size; ++i) {
      const InputMessage& source = records.source(i);
      if (offsets_.AlreadyApplied(source)) {
        ++result.duplicates;  // the broker sent it again
        continue;
      }
      offsets_.Advance(source);
      ++result.events;
      intake_.Apply(txn, source, records.command(i, scratch), offers, result);
    }
    offsets_.WriteTouched(txn);
    ticket = Stage(txn);
  }
  Finish(ticket, txn);
  return result;
}

Offers NotificationCore::FetchOffers(const Records& records) {
  Offers offers;
  if (redemption_ == nullptr) return offers;
  std::set<std::string> members;
  Command scratch;
  for (size_t i = 0; i < records.size; ++i) {
    // Undecodable records are reported when the batch is applied.
    const auto* cmd = std::get_if<EventCmd>(&records.command(i, scratch));
    if (cmd != nullptr && intake_.MayWantOffer(cmd->event)) members.insert(cmd->event.member_id());
  }
  if (members.empty()) return offers;
  {
    // Only members who will get the message are worth a call.
    std::lock_guard lock(mu_);
    prefs_.Trim();
    for (auto it = members.begin(); it != members.end();) {
      bool wants = prefs_.Wants(prefs_.Find(MemberId(*it)), "expiring_soon");
      it = wants ? std::next(it) : members.erase(it);
    }
  }
  for (const auto& member_id : members) {
    auto response = redemption_->ListRewards(member_id);
    if (!response.ok()) {
      // Redemption is down or slow: the messages go without a suggestion rather than late.
      LogWarn("redemption unavailable: expiring-soon messages without a suggestion",
              {{"member_id", member_id}, {"status", response.status().ToString()}});
      break;
    }
    offers[member_id] = std::move(*response);
  }
  return offers;
}

int NotificationCore::FlushDigests() {
  Txn txn;
  uint64_t ticket = 0;
  int flushed = 0;
  {
    std::lock_guard lock(mu_);
    flushed = digest_flow_.Flush(txn, TimeMs(clock_.NowMs()));
    if (flushed == 0) return 0;
    ticket = Stage(txn);
  }
  Finish(ticket, txn);
  return flushed;
}

std::vector<v1::Notification> NotificationCore::TakeDue(const std::string& channel, size_t limit) {
  std::lock_guard lock(mu_);
  return queue_.TakeDue(channel, limit, TimeMs(clock_.NowMs()));
}

AttemptFacts NotificationCore::RecordAttempt(const std::string& notification_id,
                                             const SendResult& result) {
  AttemptFacts facts;
  Txn txn;
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    facts = queue_.Record(txn, notification_id, result, TimeMs(clock_.NowMs()));
    if (!facts.found) return facts;
    ticket = Stage(txn);
  }
  store_.WaitDurable(ticket);
  return facts;
}

RecordCacheStats NotificationCore::PreferenceCacheStats() const {
  std::lock_guard lock(mu_);
  return prefs_.cache_stats();
}

int64_t NotificationCore::QueueDepth() const {
  std::lock_guard lock(mu_);
  return log_.pending_count();
}

CircuitBreaker::State NotificationCore::BreakerState(const std::string& channel) const {
  std::lock_guard lock(mu_);
  return queue_.BreakerState(channel, TimeMs(clock_.NowMs()));
}

}  // namespace loyalty::notification
