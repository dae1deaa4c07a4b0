#include "services/notification/core/event_intake.h"

#include <variant>

#include "common/dead_letter.h"
#include "common/retention.h"
#include "services/notification/core/outbound.h"
#include "services/notification/core/policy.h"
#include "services/notification/core/suggestion.h"
#include "services/notification/core/templates.h"

namespace loyalty::notification {

void EventIntake::Apply(Txn& txn, const InputMessage& source, const Command& command,
                        const Offers& offers, BatchResult& result) {
  if (const auto* bad = std::get_if<Undecodable>(&command)) {
    Reject(txn, source, bad->kind, bad->reason, result);
    return;
  }
  const v1::LoyaltyEvent& event = std::get<EventCmd>(command).event;
  if (event.event_id().empty() || event.member_id().empty()) {
    Reject(txn, source, "invalid", "event_id and member_id: required", result);
    return;
  }
  if (!FirstTime(txn, event.event_id())) {
    ++result.duplicates;
    return;
  }
  Handle(txn, event, offers, result);
}

bool EventIntake::MayWantOffer(const v1::LoyaltyEvent& event) const {
  if (event.payload_case() != v1::LoyaltyEvent::kPointsExpiringSoon || event.member_id().empty() ||
      event.event_id().empty()) {
    return false;
  }
  // A replay will be skipped anyway: no need to ask for it.
  std::string ignored;
  return !m_.store.Get(cf::kSeen, event.event_id(), &ignored);
}

void EventIntake::Reject(Txn& txn, const InputMessage& source, const std::string& kind,
                         const std::string& reason, BatchResult& result) const {
  txn.Publish(DeadLetterRecord(source, kind, reason));
  ++result.dead_lettered;
  ++result.dead_letters[{source.topic, kind}];
}

bool EventIntake::FirstTime(Txn& txn, const std::string& event_id) const {
  std::string ignored;
  if (txn.seen_events.count(event_id) || m_.store.Get(cf::kSeen, event_id, &ignored)) {
    return false;
  }
  txn.seen_events.insert(event_id);
  txn.Put(cf::kSeen, event_id, DedupeRecord(m_.clock.NowMs()));
  return true;
}

void EventIntake::EraseMember(Txn& txn, const MemberId& member, BatchResult& result) {
  // Personal data (addresses) goes with the member; the delivery log keeps no more than
  // what was sent.
  std::string chat = m_.prefs.Erase(txn, member);
  if (!chat.empty()) m_.links.UnlinkChat(txn, chat);
  m_.digests.Erase(txn, member);
  ++result.unmapped;
}

void EventIntake::Handle(Txn& txn, const v1::LoyaltyEvent& event, const Offers& offers,
                         BatchResult& result) {
  MemberId member(event.member_id());
  if (event.payload_case() == v1::LoyaltyEvent::kMemberErased) {
    EraseMember(txn, member, result);
    return;
  }
  const v1::Preferences* prefs = m_.prefs.Find(member);
  std::string language = m_.prefs.LanguageOf(prefs);
  LocalZone zone = prefs ? LocalZone::Of(*prefs) : LocalZone::Fixed(0);
  std::optional<Mapped> mapped = MapEvent(event, language, zone);
  if (!mapped) {
    ++result.unmapped;
    return;
  }
  if (!m_.prefs.Wants(prefs, mapped->kind)) {
    ++result.skipped;
    return;
  }
  if (mapped->kind == "expiring_soon") {
    std::optional<v1::Reward> reward;
    if (auto it = offers.find(member.value()); it != offers.end()) {
      reward = PickSuggestion(it->second, event.points_expiring_soon().points());
    }
    AddSuggestionVars(mapped->vars, reward, language);
  }
  TimeMs now(m_.clock.NowMs());
  if (!WithinCap(txn, *prefs, event, *mapped, zone, language, now)) {
    ++result.digested;
    return;
  }
  TimeMs due =
      mapped->transactional ? now : TimeMs(ReleaseTime(now.value(), prefs->quiet_hours(), zone));
  QueueMessage(m_, txn, *prefs,
               Message{mapped->kind, event.event_id(), mapped->vars, mapped->transactional, due},
               &result);
}

bool EventIntake::WithinCap(Txn& txn, const v1::Preferences& prefs, const v1::LoyaltyEvent& event,
                            const Mapped& mapped, const LocalZone& zone,
                            const std::string& language, TimeMs now) {
  if (mapped.transactional || prefs.daily_cap() <= 0) return true;
  MemberId member(event.member_id());
  int64_t day = LocalDay(now.value(), zone);
  if (m_.caps.Count(member, day) < prefs.daily_cap()) {
    m_.caps.Increment(txn, member, day);
    return true;
  }
  DigestItem item;
  item.set_event_id(event.event_id());
  item.set_kind(mapped.kind);
  item.set_line(Render(m_.templates.Get(mapped.kind, "sms", language).body(), mapped.vars));
  m_.digests.Add(txn, member, day, TimeMs(LocalDayStartMs(day + 1, zone)), std::move(item));
  return false;
}

}  // namespace loyalty::notification
