#include "services/notification/core/notification_core.h"

#include <algorithm>
#include <cctype>
#include <random>
#include <sstream>
#include <variant>

#include "common/dead_letter.h"
#include "common/idempotent.h"
#include "common/ids.h"
#include "common/key_codec.h"
#include "common/log.h"
#include "common/retention.h"
#include "common/unit_of_work.h"
#include "loyalty/v1/internal.pb.h"
#include "services/notification/core/i18n.h"
#include "services/notification/core/mapper.h"
#include "services/notification/core/suggestion.h"

namespace loyalty::notification {
namespace {

constexpr char kPrefsCf[] = "prefs";
constexpr char kNotificationsCf[] = "notifications";
constexpr char kQueueCf[] = "queue";           // (channel, due_ms, id): what is still to send
constexpr char kMemberLogCf[] = "member_log";  // (member, created_ms, id)
constexpr char kSeenCf[] = "seen_events";
constexpr char kDayCountsCf[] = "day_counts";
constexpr char kDigestsCf[] = "digests";
constexpr char kTemplatesCf[] = "templates";
constexpr char kLinkCodesCf[] = "tg_codes";
constexpr char kChatsCf[] = "tg_chats";
constexpr char kDeadLettersCf[] = "dead_letters";
constexpr char kIdempotencyCf[] = "idempotency";
constexpr char kOffsetsCf[] = "offsets";

constexpr size_t kMaxIdLength = 128;

using v1::internal::IdempotencyRecord;
using v1::notificationinternal::DigestItem;
using v1::notificationinternal::LinkCode;

std::string QueueKey(const std::string& channel, int64_t due_ms, const std::string& id) {
  std::string key;
  keys::AppendString(key, channel);
  keys::AppendI64(key, due_ms);
  keys::AppendString(key, id);
  return key;
}

std::string MemberLogKey(const std::string& member_id, int64_t created_ms, const std::string& id) {
  std::string key;
  keys::AppendString(key, member_id);
  keys::AppendI64(key, created_ms);
  keys::AppendString(key, id);
  return key;
}

std::string DayKey(const std::string& member_id, int64_t day) {
  std::string key;
  keys::AppendString(key, member_id);
  keys::AppendI64(key, day);
  return key;
}

using keys::EncodeI64;

std::string Hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

bool Unhex(const std::string& s, std::string* out) {
  if (s.size() % 2) return false;
  out->clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    auto nib = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = nib(s[i]), lo = nib(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '@';
  });
}

bool ValidEmail(const std::string& e) {
  auto at = e.find('@');
  if (at == std::string::npos || at == 0 || e.size() > 254) return false;
  auto dot = e.find('.', at);
  if (dot == std::string::npos || dot == at + 1 || dot + 1 >= e.size()) return false;
  return std::none_of(e.begin(), e.end(), [](unsigned char c) {
    return std::isspace(c) || c == '<' || c == '>' || c == ',' || c < 32;
  });
}

bool ValidPhone(const std::string& p) {
  if (p.size() < 8 || p.size() > 16 || p[0] != '+' || p[1] == '0') return false;
  return std::all_of(p.begin() + 1, p.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool ValidUrl(const std::string& u) {
  if (u.size() > 2048) return false;
  bool scheme = u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0;
  return scheme && u.find_first_of(" \r\n\t") == std::string::npos && u.size() > u.find("://") + 3;
}

bool ValidChatId(const std::string& c) {
  if (c.empty() || c.size() > 20) return false;
  size_t start = c[0] == '-' ? 1 : 0;
  return start < c.size() &&
         std::all_of(c.begin() + start, c.end(), [](unsigned char ch) { return std::isdigit(ch); });
}

std::string AddressOf(const v1::Preferences& p, const std::string& channel) {
  if (channel == "email") return p.email();
  if (channel == "sms") return p.phone();
  if (channel == "webhook") return p.webhook_url();
  if (channel == "telegram") return p.telegram_chat_id();
  return "";
}

Status ValidatePreferences(const v1::Preferences& p) {
  if (p.member_id().empty()) return InvalidArgument("preferences.member_id: required");
  if (!ValidId(p.member_id())) return InvalidArgument("preferences.member_id: invalid id");
  if (!p.language().empty() && !SupportedLanguage(p.language())) {
    return InvalidArgument("preferences.language: unsupported '" + p.language() +
                           "' (en, uk, ru, pl, hu)");
  }
  if (!p.email().empty() && !ValidEmail(p.email())) {
    return InvalidArgument("preferences.email: not an e-mail address");
  }
  if (!p.phone().empty() && !ValidPhone(p.phone())) {
    return InvalidArgument("preferences.phone: not an E.164 number (+ and 7-15 digits)");
  }
  if (!p.webhook_url().empty() && !ValidUrl(p.webhook_url())) {
    return InvalidArgument("preferences.webhook_url: not an http(s) URL");
  }
  if (!p.telegram_chat_id().empty() && !ValidChatId(p.telegram_chat_id())) {
    return InvalidArgument("preferences.telegram_chat_id: not a Telegram chat id");
  }
  std::set<std::string> seen;
  for (int i = 0; i < p.channels_size(); ++i) {
    const std::string& c = p.channels(i);
    std::string field = "preferences.channels[" + std::to_string(i) + "]";
    if (!KnownChannel(c)) return InvalidArgument(field + ": unknown channel '" + c + "'");
    if (!seen.insert(c).second) return InvalidArgument(field + ": '" + c + "' listed twice");
    if (AddressOf(p, c).empty()) {
      return InvalidArgument(field + ": '" + c + "' has no address" +
                             (c == "telegram" ? " (link the chat through the bot)" : ""));
    }
  }
  for (int i = 0; i < p.opted_out_kinds_size(); ++i) {
    if (!KnownKind(p.opted_out_kinds(i))) {
      return InvalidArgument("preferences.opted_out_kinds[" + std::to_string(i) +
                             "]: unknown kind '" + p.opted_out_kinds(i) + "'");
    }
  }
  const auto& q = p.quiet_hours();
  if (q.start_minute() < 0 || q.start_minute() >= 1440) {
    return InvalidArgument("preferences.quiet_hours.start_minute: must be 0..1439");
  }
  if (q.end_minute() < 0 || q.end_minute() >= 1440) {
    return InvalidArgument("preferences.quiet_hours.end_minute: must be 0..1439");
  }
  if (p.utc_offset_minutes() < -720 || p.utc_offset_minutes() > 840) {
    return InvalidArgument("preferences.utc_offset_minutes: must be -720..840");
  }
  if (!p.time_zone().empty() && !LocalZone::Named(p.time_zone())) {
    return InvalidArgument("preferences.time_zone: '" + p.time_zone() +
                           "' is not a time zone of the tz database (e.g. Europe/Kyiv)");
  }
  if (p.daily_cap() < 0 || p.daily_cap() > 1000) {
    return InvalidArgument("preferences.daily_cap: must be 0..1000");
  }
  return Status::Ok();
}

std::set<std::string> SplitList(const std::string& s) {
  std::set<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.insert(item);
  }
  return out;
}

}  // namespace

int64_t SweepOldDayCounts(Store& store, int64_t now_ms) {
  // Any member's local day is within a day of UTC's; older counters are never read again.
  int64_t oldest_kept = now_ms / kDayMs - 2;
  std::vector<std::string> old;
  store.Scan(kDayCountsCf, "", "", [&](std::string_view key, std::string_view) {
    if (key.size() >= 8 && keys::ReadI64(key, key.size() - 8) < oldest_kept) old.emplace_back(key);
    return true;
  });
  if (!old.empty()) {
    store.WriteUnsynced([&](StagedWrite& w) {
      for (const auto& key : old) w.Delete(kDayCountsCf, key);
    });
  }
  return static_cast<int64_t>(old.size());
}

std::vector<std::string> NotificationColumnFamilies() {
  return {kPrefsCf,       kNotificationsCf, kQueueCf,     kMemberLogCf, kSeenCf,
          kDayCountsCf,   kDigestsCf,       kTemplatesCf, kLinkCodesCf, kChatsCf,
          kDeadLettersCf, kIdempotencyCf,   kOffsetsCf,   kOutboxCf};
}

StatusOr<NotificationConfig> NotificationConfig::FromConfig(const Config& config) {
  NotificationConfig c;
  c.disabled_kinds = SplitList(config.GetString("notification.disabled_kinds", ""));
  for (const auto& k : c.disabled_kinds) {
    if (!KnownKind(k))
      return InvalidArgument("notification.disabled_kinds: unknown kind '" + k + "'");
  }
  c.default_language = config.GetString("notification.default_language", "en");
  if (!SupportedLanguage(c.default_language)) {
    return InvalidArgument("notification.default_language: unsupported '" + c.default_language +
                           "'");
  }
  c.max_attempts = static_cast<int>(config.GetInt("notification.max_attempts", c.max_attempts));
  if (c.max_attempts < 1) return InvalidArgument("notification.max_attempts: must be >= 1");
  c.backoff.base_ms = config.GetInt("notification.backoff_base_ms", c.backoff.base_ms);
  c.backoff.max_ms = config.GetInt("notification.backoff_max_ms", c.backoff.max_ms);
  if (c.backoff.base_ms < 1 || c.backoff.max_ms < c.backoff.base_ms) {
    return InvalidArgument("notification.backoff_base_ms: must be >= 1 and <= backoff_max_ms");
  }
  c.breaker.failure_threshold =
      static_cast<int>(config.GetInt("notification.breaker_failures", c.breaker.failure_threshold));
  c.breaker.open_ms = config.GetInt("notification.breaker_open_ms", c.breaker.open_ms);
  c.seed = static_cast<uint64_t>(config.GetInt("notification.seed", 1));
  c.link_code_ttl_ms = config.GetInt("notification.link_code_ttl_ms", c.link_code_ttl_ms);
  return c;
}

// The changes of one call or batch, staged together, with what to do once they are durable.
struct NotificationCore::Txn : UnitOfWork {
  std::set<std::string> seen_events;
  std::vector<v1::Notification> created;  // visible to dispatchers once durable
};

NotificationCore::NotificationCore(Store& store, Outbox& outbox, const Clock& clock,
                                   NotificationConfig config)
    : store_(store),
      outbox_(outbox),
      clock_(clock),
      config_(std::move(config)),
      backoff_(config_.backoff, config_.seed) {
  for (const char* c : kChannels) breakers_.emplace(c, CircuitBreaker(config_.breaker));
  store_.Scan(kTemplatesCf, "", "", [&](std::string_view, std::string_view value) {
    v1::Template t;
    if (t.ParseFromArray(value.data(), static_cast<int>(value.size()))) templates_.Put(t);
    return true;
  });
  store_.Scan(kDigestsCf, "", "", [&](std::string_view key, std::string_view value) {
    Digest d;
    if (d.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      digests_[std::string(key)] = d;
    }
    return true;
  });
  store_.Scan(kQueueCf, "", "", [&](std::string_view key, std::string_view) {
    size_t pos = 0;
    std::string channel, id;
    keys::ReadString(key, pos, channel);
    int64_t due = keys::ReadI64(key, pos);
    pos += 8;
    keys::ReadString(key, pos, id);
    std::string value;
    v1::notificationinternal::NotificationRecord record;
    if (store_.Get(kNotificationsCf, id, &value) && record.ParseFromString(value)) {
      pending_[id] = record.notification();
      queue_[channel].emplace(due, id);
    }
    return true;
  });
  offsets_ = LoadStoredOffsets(store_, kOffsetsCf);
}

uint64_t NotificationCore::Stage(Txn& txn) {
  return store_.Stage([&](StagedWrite& write) { txn.WriteTo(write, outbox_); });
}

void NotificationCore::Finish(uint64_t ticket, Txn& txn) {
  store_.WaitDurable(ticket);
  if (txn.created.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (auto& n : txn.created) {
      queue_[n.channel()].emplace(n.next_attempt_at_ms(), n.notification_id());
      pending_[n.notification_id()] = std::move(n);
    }
  }
  if (on_queued_) on_queued_();
}

template <typename Response, typename Request>
StatusOr<Response> NotificationCore::Idempotent(
    const char* method, const Request& request, const std::string& key,
    const std::function<StatusOr<Response>(Txn&)>& apply) {
  auto outcome = RunIdempotent<IdempotencyRecord, Response, Txn>(
      store_, mu_, clock_.NowMs(), method, request, key, apply,
      [this](Txn& txn) { return Stage(txn); });
  if (outcome.ticket != 0) Finish(outcome.ticket, outcome.txn);
  return std::move(outcome.result);
}

v1::Preferences* NotificationCore::FindPrefs(const std::string& member_id) {
  if (auto it = prefs_.find(member_id); it != prefs_.end()) return &it->second;
  std::string value;
  if (member_id.empty() || !store_.Get(kPrefsCf, member_id, &value)) return nullptr;
  v1::Preferences& slot = prefs_[member_id];
  if (!slot.ParseFromString(value)) {
    prefs_.erase(member_id);
    return nullptr;
  }
  return &slot;
}

std::string NotificationCore::LanguageOf(const v1::Preferences& prefs) const {
  return prefs.language().empty() ? config_.default_language : prefs.language();
}

StatusOr<v1::Preferences> NotificationCore::SetPreferences(
    const v1::SetPreferencesRequest& request) {
  return Idempotent<v1::Preferences>(
      "SetPreferences", request, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<v1::Preferences> {
        v1::Preferences p = request.preferences();
        // The chat id comes from linking through the bot; a client that does not send it
        // keeps the linked one.
        if (p.telegram_chat_id().empty()) {
          if (const v1::Preferences* old = FindPrefs(p.member_id())) {
            p.set_telegram_chat_id(old->telegram_chat_id());
          }
        }
        if (Status s = ValidatePreferences(p); !s.ok()) return s;
        p.set_updated_at_ms(clock_.NowMs());
        prefs_[p.member_id()] = p;
        txn.Put(kPrefsCf, p.member_id(), p.SerializeAsString(), /*visible=*/true);
        return p;
      });
}

StatusOr<v1::Preferences> NotificationCore::GetPreferences(const std::string& member_id) {
  if (member_id.empty()) return InvalidArgument("member_id: required");
  std::lock_guard lock(mu_);
  const v1::Preferences* p = FindPrefs(member_id);
  if (p == nullptr) return NotFound("member_id: no preferences for '" + member_id + "'");
  return *p;
}

StatusOr<v1::Template> NotificationCore::SetTemplate(const v1::SetTemplateRequest& request) {
  return Idempotent<v1::Template>(
      "SetTemplate", request, request.idempotency_key(), [&](Txn& txn) -> StatusOr<v1::Template> {
        if (Status s = templates_.Put(request.template_()); !s.ok()) return s;
        const auto& t = request.template_();
        v1::Template stored = templates_.Get(t.kind(), t.channel(), t.language());
        txn.Put(kTemplatesCf, TemplateSet::Key(t.kind(), t.channel(), t.language()),
                stored.SerializeAsString());
        return stored;
      });
}

StatusOr<v1::Template> NotificationCore::GetTemplate(const v1::GetTemplateRequest& request) {
  if (!KnownKind(request.kind()))
    return InvalidArgument("kind: unknown kind '" + request.kind() + "'");
  if (!KnownChannel(request.channel())) {
    return InvalidArgument("channel: unknown channel '" + request.channel() + "'");
  }
  if (!SupportedLanguage(request.language())) {
    return InvalidArgument("language: unsupported '" + request.language() + "'");
  }
  std::lock_guard lock(mu_);
  return templates_.Get(request.kind(), request.channel(), request.language());
}

StatusOr<v1::TelegramLinkCode> NotificationCore::CreateTelegramLinkCode(
    const v1::CreateTelegramLinkCodeRequest& request) {
  return Idempotent<v1::TelegramLinkCode>(
      "CreateTelegramLinkCode", request, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<v1::TelegramLinkCode> {
        if (request.member_id().empty()) return InvalidArgument("member_id: required");
        if (!ValidId(request.member_id())) return InvalidArgument("member_id: invalid id");
        // 8 digits: easy to type into a chat, 10^8 codes against guessing within the TTL.
        std::random_device rd;
        std::uniform_int_distribution<int> digit(0, 9);
        std::string code;
        for (int i = 0; i < 8; ++i) code.push_back(static_cast<char>('0' + digit(rd)));
        LinkCode record;
        record.set_member_id(request.member_id());
        record.set_expires_at_ms(clock_.NowMs() + config_.link_code_ttl_ms);
        txn.Put(kLinkCodesCf, code, record.SerializeAsString(), /*visible=*/true);
        v1::TelegramLinkCode out;
        out.set_member_id(request.member_id());
        out.set_code(code);
        out.set_expires_at_ms(record.expires_at_ms());
        return out;
      });
}

StatusOr<std::string> NotificationCore::LinkTelegramChat(const std::string& code,
                                                         const std::string& chat_id) {
  if (!ValidChatId(chat_id)) return InvalidArgument("chat_id: not a Telegram chat id");
  Txn txn;
  uint64_t ticket = 0;
  std::string member_id;
  {
    std::lock_guard lock(mu_);
    std::string value;
    LinkCode record;
    if (code.empty() || !store_.Get(kLinkCodesCf, code, &value) || !record.ParseFromString(value)) {
      return NotFound("code: unknown link code");
    }
    if (record.used()) return FailedPrecondition("code: already used");
    if (clock_.NowMs() >= record.expires_at_ms()) return FailedPrecondition("code: expired");
    record.set_used(true);
    txn.Put(kLinkCodesCf, code, record.SerializeAsString(), /*visible=*/true);
    member_id = record.member_id();
    v1::Preferences* p = FindPrefs(member_id);
    if (p == nullptr) {
      p = &prefs_[member_id];
      p->set_member_id(member_id);
    }
    p->set_telegram_chat_id(chat_id);
    if (std::find(p->channels().begin(), p->channels().end(), "telegram") == p->channels().end()) {
      p->add_channels("telegram");
    }
    p->set_updated_at_ms(clock_.NowMs());
    txn.Put(kPrefsCf, member_id, p->SerializeAsString(), /*visible=*/true);
    txn.Put(kChatsCf, chat_id, member_id, /*visible=*/true);
    ticket = Stage(txn);
  }
  Finish(ticket, txn);
  return member_id;
}

std::optional<std::string> NotificationCore::MemberOfChat(const std::string& chat_id) {
  std::string member_id;
  if (!store_.Get(kChatsCf, chat_id, &member_id)) return std::nullopt;
  return member_id;
}

StatusOr<v1::ListNotificationsResponse> NotificationCore::ListNotifications(
    const v1::ListNotificationsRequest& request) {
  if (request.member_id().empty()) return InvalidArgument("member_id: required");
  if (request.page_size() < 0) return InvalidArgument("page_size: must not be negative");
  int page_size = request.page_size() == 0 ? 50 : std::min(request.page_size(), 500);
  std::string before;
  if (!request.page_token().empty() && !Unhex(request.page_token(), &before)) {
    return InvalidArgument("page_token: malformed");
  }
  std::string prefix;
  keys::AppendString(prefix, request.member_id());
  std::vector<std::string> ids;
  std::string last_key;
  bool more = false;
  store_.ScanBackward(kMemberLogCf, prefix, before, [&](std::string_view key, std::string_view) {
    if (static_cast<int>(ids.size()) == page_size) {
      more = true;
      return false;
    }
    size_t pos = prefix.size() + 8;
    std::string id;
    keys::ReadString(key, pos, id);
    ids.push_back(id);
    last_key = std::string(key);
    return true;
  });
  v1::ListNotificationsResponse response;
  std::lock_guard lock(mu_);
  for (const auto& id : ids) {
    if (auto it = pending_.find(id); it != pending_.end()) {
      *response.add_notifications() = it->second;
      continue;
    }
    std::string value;
    v1::notificationinternal::NotificationRecord record;
    if (store_.Get(kNotificationsCf, id, &value) && record.ParseFromString(value)) {
      *response.add_notifications() = record.notification();
    }
  }
  if (more) response.set_next_page_token(Hex(last_key));
  return response;
}

std::map<TopicPartition, int64_t> NotificationCore::StoredOffsets() const {
  std::lock_guard lock(mu_);
  return offsets_;
}

void NotificationCore::DeadLetter(Txn& txn, const InputMessage& message, const std::string& kind,
                                  const std::string& reason) {
  txn.Publish(DeadLetterRecord(message, kind, reason));
}

NotificationCore::Offers NotificationCore::FetchOffers(const Records& records) {
  Offers offers;
  if (redemption_ == nullptr) return offers;
  std::set<std::string> members;
  Command scratch;
  for (size_t i = 0; i < records.size; ++i) {
    // Undecodable records are reported when the batch is applied.
    const auto* cmd = std::get_if<EventCmd>(&records.command(i, scratch));
    if (cmd == nullptr) continue;
    const v1::LoyaltyEvent& event = cmd->event;
    if (event.payload_case() != v1::LoyaltyEvent::kPointsExpiringSoon ||
        event.member_id().empty() || event.event_id().empty()) {
      continue;
    }
    // A replay will be skipped anyway: no need to ask for it.
    std::string ignored;
    if (store_.Get(kSeenCf, event.event_id(), &ignored)) continue;
    members.insert(event.member_id());
  }
  if (members.empty()) return offers;
  {
    // Only members who will get the message are worth a call.
    std::lock_guard lock(mu_);
    for (auto it = members.begin(); it != members.end();) {
      it = Wants(FindPrefs(*it), "expiring_soon") ? std::next(it) : members.erase(it);
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

bool NotificationCore::Wants(const v1::Preferences* prefs, const std::string& kind) const {
  return prefs != nullptr && prefs->channels_size() > 0 && !config_.disabled_kinds.count(kind) &&
         std::find(prefs->opted_out_kinds().begin(), prefs->opted_out_kinds().end(), kind) ==
             prefs->opted_out_kinds().end();
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
    std::set<TopicPartition> touched;
    Command scratch;
    for (size_t i = 0; i < records.size; ++i) {
      const InputMessage& source = records.source(i);
      TopicPartition tp{source.topic, source.partition};
      auto stored = offsets_.find(tp);
      if (stored != offsets_.end() && source.offset < stored->second) {
        ++result.duplicates;
        continue;
      }
      offsets_[tp] = source.offset + 1;
      touched.insert(tp);
      ++result.events;
      ApplyRecord(txn, source, records.command(i, scratch), offers, result);
    }
    for (const auto& tp : touched) txn.Put(kOffsetsCf, OffsetKey(tp), EncodeI64(offsets_[tp]));
    ticket = Stage(txn);
  }
  Finish(ticket, txn);
  return result;
}

void NotificationCore::ApplyRecord(Txn& txn, const InputMessage& source, const Command& command,
                                   const Offers& offers, BatchResult& result) {
  if (const auto* bad = std::get_if<Undecodable>(&command)) {
    DeadLetter(txn, source, bad->kind, bad->reason);
    ++result.dead_lettered;
    ++result.dead_letters[{source.topic, bad->kind}];
    return;
  }
  const v1::LoyaltyEvent& event = std::get<EventCmd>(command).event;
  if (event.event_id().empty() || event.member_id().empty()) {
    DeadLetter(txn, source, "invalid", "event_id and member_id: required");
    ++result.dead_lettered;
    ++result.dead_letters[{source.topic, "invalid"}];
    return;
  }
  std::string ignored;
  if (txn.seen_events.count(event.event_id()) || store_.Get(kSeenCf, event.event_id(), &ignored)) {
    ++result.duplicates;
    return;
  }
  txn.seen_events.insert(event.event_id());
  txn.Put(kSeenCf, event.event_id(), DedupeRecord(clock_.NowMs()));
  HandleEvent(txn, event, offers, result);
}

int64_t& NotificationCore::DayCount(Txn& txn, const std::string& member_id, int64_t day) {
  auto key = std::make_pair(member_id, day);
  auto it = day_counts_.find(key);
  if (it != day_counts_.end()) return it->second;
  // Older days are never needed again: forget them so the map stays small.
  for (auto old = day_counts_.begin(); old != day_counts_.end();) {
    if (old->first.second < day - 1) {
      old = day_counts_.erase(old);
    } else {
      ++old;
    }
  }
  std::string value;
  int64_t count =
      store_.Get(kDayCountsCf, DayKey(member_id, day), &value) ? keys::ReadI64(value) : 0;
  return day_counts_[key] = count;
}

void NotificationCore::HandleEvent(Txn& txn, const v1::LoyaltyEvent& event, const Offers& offers,
                                   BatchResult& result) {
  const std::string& member_id = event.member_id();
  if (event.payload_case() == v1::LoyaltyEvent::kMemberErased) {
    // Personal data (addresses) goes with the member; the delivery log keeps no more than
    // what was sent.
    if (const v1::Preferences* p = FindPrefs(member_id)) {
      if (!p->telegram_chat_id().empty()) txn.Erase(kChatsCf, p->telegram_chat_id());
      prefs_.erase(member_id);
      txn.Erase(kPrefsCf, member_id);
    }
    digests_.erase(member_id);
    txn.Erase(kDigestsCf, member_id);
    ++result.unmapped;
    return;
  }
  const v1::Preferences* prefs = FindPrefs(member_id);
  std::string language = prefs ? LanguageOf(*prefs) : config_.default_language;
  LocalZone zone = prefs ? LocalZone::Of(*prefs) : LocalZone::Fixed(0);
  std::optional<Mapped> mapped = MapEvent(event, language, zone);
  if (!mapped) {
    ++result.unmapped;
    return;
  }
  if (!Wants(prefs, mapped->kind)) {
    ++result.skipped;
    return;
  }
  if (mapped->kind == "expiring_soon") {
    std::optional<v1::Reward> reward;
    if (auto it = offers.find(member_id); it != offers.end()) {
      reward = PickSuggestion(it->second, event.points_expiring_soon().points());
    }
    AddSuggestionVars(mapped->vars, reward, language);
  }
  int64_t now = clock_.NowMs();
  if (!mapped->transactional && prefs->daily_cap() > 0) {
    int64_t day = LocalDay(now, zone);
    int64_t& count = DayCount(txn, member_id, day);
    if (count >= prefs->daily_cap()) {
      Digest& digest = digests_[member_id];
      if (digest.items_size() == 0) {
        digest.set_member_id(member_id);
        digest.set_local_day(day);
        digest.set_flush_at_ms(LocalDayStartMs(day + 1, zone));
      }
      DigestItem* item = digest.add_items();
      item->set_event_id(event.event_id());
      item->set_kind(mapped->kind);
      item->set_line(Render(templates_.Get(mapped->kind, "sms", language).body(), mapped->vars));
      txn.Put(kDigestsCf, member_id, digest.SerializeAsString());
      ++result.digested;
      return;
    }
    ++count;
    txn.Put(kDayCountsCf, DayKey(member_id, day), EncodeI64(count));
  }
  int64_t due = mapped->transactional ? now : ReleaseTime(now, prefs->quiet_hours(), zone);
  Enqueue(txn, *prefs, mapped->kind, event.event_id(), mapped->vars, mapped->transactional, due,
          &result);
}

void NotificationCore::Enqueue(Txn& txn, const v1::Preferences& prefs, const std::string& kind,
                               const std::string& event_id, const Vars& vars, bool transactional,
                               int64_t due_ms, BatchResult* result) {
  std::string language = LanguageOf(prefs);
  int64_t now = clock_.NowMs();
  for (const auto& channel : prefs.channels()) {
    std::string address = AddressOf(prefs, channel);
    if (address.empty()) continue;
    v1::Notification n;
    n.set_notification_id(event_id + "|" + channel);
    // Once created (or delivered), an id is never created again: replays are deduped by
    // event id before this point, and digests use their own ids.
    n.set_member_id(prefs.member_id());
    n.set_event_id(event_id);
    n.set_kind(kind);
    n.set_channel(channel);
    n.set_address(address);
    n.set_language(language);
    v1::Template t = templates_.Get(kind, channel, language);
    if (channel == "email" || channel == "webhook") n.set_subject(Render(t.subject(), vars));
    n.set_body(Render(t.body(), vars));
    n.set_status("queued");
    n.set_created_at_ms(now);
    n.set_next_attempt_at_ms(due_ms);
    n.set_transactional(transactional);
    v1::notificationinternal::NotificationRecord record;
    *record.mutable_notification() = n;
    txn.Put(kNotificationsCf, n.notification_id(), record.SerializeAsString());
    txn.Put(kQueueCf, QueueKey(channel, due_ms, n.notification_id()), "");
    txn.Put(kMemberLogCf, MemberLogKey(n.member_id(), now, n.notification_id()), "");
    if (result) ++result->queued[{kind, channel}];
    txn.created.push_back(std::move(n));
  }
}

int NotificationCore::FlushDigests() {
  Txn txn;
  uint64_t ticket = 0;
  int flushed = 0;
  {
    std::lock_guard lock(mu_);
    int64_t now = clock_.NowMs();
    for (auto it = digests_.begin(); it != digests_.end();) {
      const Digest& digest = it->second;
      if (digest.flush_at_ms() > now) {
        ++it;
        continue;
      }
      const v1::Preferences* prefs = FindPrefs(digest.member_id());
      if (prefs != nullptr && digest.items_size() > 0) {
        std::string language = LanguageOf(*prefs);
        std::string items;
        for (const auto& item : digest.items()) items += "• " + item.line() + "\n";
        if (!items.empty()) items.pop_back();
        Vars vars{{"member_id", digest.member_id()},
                  {"count", std::to_string(digest.items_size())},
                  {"count_word", NotificationsWord(language, digest.items_size())},
                  {"items", items}};
        std::string event_id =
            "digest:" + digest.member_id() + ":" + std::to_string(digest.local_day());
        int64_t due = ReleaseTime(now, prefs->quiet_hours(), LocalZone::Of(*prefs));
        Enqueue(txn, *prefs, "digest", event_id, vars, false, due, nullptr);
      }
      txn.Erase(kDigestsCf, it->first);
      it = digests_.erase(it);
      ++flushed;
    }
    if (flushed == 0) return 0;
    ticket = Stage(txn);
  }
  Finish(ticket, txn);
  return flushed;
}

std::vector<v1::Notification> NotificationCore::TakeDue(const std::string& channel, size_t limit) {
  std::vector<v1::Notification> due;
  std::lock_guard lock(mu_);
  int64_t now = clock_.NowMs();
  auto q = queue_.find(channel);
  if (q == queue_.end() || q->second.empty() || q->second.begin()->first > now) return due;
  CircuitBreaker& breaker = breakers_.at(channel);
  bool was_closed = breaker.state(now) == CircuitBreaker::State::kClosed;
  if (!breaker.Allow(now)) return due;
  if (!was_closed) limit = 1;  // half-open: a single trial
  for (const auto& [due_ms, id] : q->second) {
    if (due_ms > now || due.size() >= limit) break;
    if (in_flight_.count(id)) continue;
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    in_flight_.insert(id);
    due.push_back(it->second);
  }
  if (due.empty()) breaker.Release();
  return due;
}

AttemptFacts NotificationCore::RecordAttempt(const std::string& notification_id,
                                             const SendResult& result) {
  AttemptFacts facts;
  Txn txn;
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    in_flight_.erase(notification_id);
    auto it = pending_.find(notification_id);
    if (it == pending_.end()) return facts;
    facts.found = true;
    v1::Notification& n = it->second;
    int64_t now = clock_.NowMs();
    facts.kind = n.kind();
    facts.channel = n.channel();
    facts.latency_ms = result.latency_ms;
    v1::DeliveryAttempt* attempt = n.add_attempts();
    attempt->set_at_ms(now);
    attempt->set_latency_ms(result.latency_ms);
    attempt->set_detail(result.detail);
    CircuitBreaker& breaker = breakers_.at(n.channel());
    auto& queue = queue_[n.channel()];
    queue.erase({n.next_attempt_at_ms(), n.notification_id()});
    txn.Erase(kQueueCf, QueueKey(n.channel(), n.next_attempt_at_ms(), n.notification_id()));
    bool done = true;
    switch (result.outcome) {
      case SendResult::Outcome::kOk:
        attempt->set_outcome("ok");
        breaker.OnSuccess();
        n.set_status("delivered");
        n.set_delivered_at_ms(now);
        facts.outcome = "delivered";
        facts.end_to_end_ms = now - n.created_at_ms();
        break;
      case SendResult::Outcome::kPermanent:
        // The endpoint answered, so the channel is healthy; this address will never work.
        attempt->set_outcome("permanent");
        breaker.OnSuccess();
        n.set_status("dead");
        facts.outcome = "dead";
        break;
      case SendResult::Outcome::kTransient:
        attempt->set_outcome("transient");
        breaker.OnTransientFailure(now);
        if (n.attempts_size() >= config_.max_attempts) {
          n.set_status("dead");
          facts.outcome = "dead";
        } else {
          n.set_next_attempt_at_ms(now + backoff_.DelayMs(n.attempts_size()));
          facts.outcome = "retry";
          done = false;
        }
        break;
    }
    v1::notificationinternal::NotificationRecord record;
    *record.mutable_notification() = n;
    txn.Put(kNotificationsCf, n.notification_id(), record.SerializeAsString());
    if (done) {
      if (n.status() == "dead") {
        std::string key = EncodeI64(now) + n.notification_id();
        txn.Put(kDeadLettersCf, key, record.SerializeAsString());
      }
      pending_.erase(it);
    } else {
      txn.Put(kQueueCf, QueueKey(n.channel(), n.next_attempt_at_ms(), n.notification_id()), "");
      queue.emplace(n.next_attempt_at_ms(), n.notification_id());
    }
    ticket = Stage(txn);
  }
  store_.WaitDurable(ticket);
  return facts;
}

int64_t NotificationCore::QueueDepth() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(pending_.size());
}

CircuitBreaker::State NotificationCore::BreakerState(const std::string& channel) const {
  std::lock_guard lock(mu_);
  auto it = breakers_.find(channel);
  if (it == breakers_.end()) return CircuitBreaker::State::kClosed;
  return it->second.state(clock_.NowMs());
}

}  // namespace loyalty::notification
