#include "services/accrual/core/activity_flow.h"

#include <algorithm>

#include "common/field_limits.h"
#include "common/key_codec.h"
#include "services/accrual/core/rules.h"
#include "services/accrual/core/validation.h"

namespace loyalty::accrual {
namespace {

std::string ActivityObjectKey(const std::string& member_id, const std::string& type,
                              const std::string& object_id) {
  std::string key;
  keys::AppendString(key, member_id);
  keys::AppendString(key, type);
  keys::AppendString(key, object_id);
  return key;
}

}  // namespace

void ActivityFlow::Apply(Txn& txn, const InputMessage& source, const v1::ActivityEvent& activity,
                         BatchResult& result) {
  if (!ValidId(activity.activity_id())) {
    return Reject(txn, source, "invalid",
                  "activity_id: required, 1-128 letters, digits and _ - . : @", result);
  }
  const ActivityRule* rule = m_.config.FindActivity(activity.type());
  if (rule == nullptr) {
    return Reject(txn, source, "invalid",
                  "type: no rule for activity type '" + Quote(activity.type()) + "'", result);
  }
  std::string seen;
  if (txn.activities.count(activity.activity_id()) ||
      m_.store.Get(cf::kActivities, activity.activity_id(), &seen)) {
    ++result.duplicates;
    return;
  }
  MemberRecord* member = m_.members.Find(activity.member_id());
  if (member == nullptr || member->member().status() == v1::MEMBER_STATUS_ERASED) {
    return Reject(txn, source, member == nullptr ? "unknown_member" : "erased_member",
                  "member_id: member '" + Quote(activity.member_id()) + "' is not an active member",
                  result);
  }
  txn.activities.insert(activity.activity_id());
  txn.Put(cf::kActivities, activity.activity_id(), "", /*visible=*/true);
  ++result.activities_applied;

  std::string object_key;
  if (rule->once_per_object) {
    object_key = ActivityObjectKey(activity.member_id(), activity.type(), activity.object_id());
    if (txn.activity_objects.count(object_key) ||
        m_.store.Get(cf::kActivityObjects, object_key, &seen)) {
      return;  // rewarded for this object before
    }
  }
  Points points = TakeFromDailyCap(txn, *member, activity, *rule);
  if (!points.positive()) return;  // the day's cap is reached; the object may earn another day
  if (!object_key.empty()) {
    txn.activity_objects.insert(object_key);
    txn.Put(cf::kActivityObjects, object_key, activity.activity_id(), /*visible=*/true);
  }
  Points earned_before(member->member().balance().lifetime_earned());
  Posting posting = CreditPosting(v1::LEDGER_KIND_ACTIVITY, member->member().balance(), points);
  posting.reason =
      activity.type() + (activity.object_id().empty() ? "" : " of " + activity.object_id());
  posting.source_id = activity.activity_id();
  posting.metrics_source = "activity";
  v1::LoyaltyEvent event;
  auto* rewarded = event.mutable_activity_rewarded();
  rewarded->set_activity_id(activity.activity_id());
  rewarded->set_activity_type(activity.type());
  rewarded->set_points(points.value());
  m_.ledger.Post(txn, *member, std::move(posting), std::move(event));
  m_.milestones.Check(txn, *member, /*purchase_counted=*/false, earned_before);
}

Points ActivityFlow::TakeFromDailyCap(Txn& txn, MemberRecord& member,
                                      const v1::ActivityEvent& activity, const ActivityRule& rule) {
  int64_t now = m_.clock.NowMs();
  int64_t day = DayOf(activity.occurred_at_ms() > 0 ? activity.occurred_at_ms() : now);
  auto* days = member.mutable_activity_days();
  for (int i = days->size() - 1; i >= 0; --i) {
    if (days->Get(i).day() < DayOf(now) - 1) days->DeleteSubrange(i, 1);  // caps are daily
  }
  v1::internal::ActivityDay* today = nullptr;
  for (auto& d : *days) {
    if (d.type() == activity.type() && d.day() == day) today = &d;
  }
  if (today == nullptr) {
    today = days->Add();
    today->set_type(activity.type());
    today->set_day(day);
  }
  int64_t points = rule.points;
  if (rule.daily_cap > 0) points = std::min(points, rule.daily_cap - today->points());
  MemberBook::Touch(txn, member);
  if (points > 0) today->set_points(today->points() + points);
  return Points(std::max<int64_t>(points, 0));
}

}  // namespace loyalty::accrual
