#include "services/accrual/core/milestones.h"

#include <optional>
#include <string_view>

namespace loyalty::accrual {

std::string BadgeTitle(const std::string& id) {
  auto after = [&](std::string_view prefix) -> std::optional<std::string> {
    if (id.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    return id.substr(prefix.size());
  };
  if (id == "first_purchase") return "First purchase";
  if (auto n = after("purchases_")) return *n + " purchases";
  if (auto n = after("points_")) return *n + " points earned";
  if (auto tier = after("tier_")) return "Reached " + *tier;
  return id;
}

void Milestones::Check(Txn& txn, MemberRecord& member, bool purchase_counted,
                       Points earned_before) {
  if (purchase_counted) {
    for (int64_t n : config_.purchase_milestones) {
      if (member.purchases() != n) continue;
      Reach(txn, member, n == 1 ? "first_purchase" : "purchases_" + std::to_string(n));
    }
  }
  int64_t earned = member.member().balance().lifetime_earned();
  for (int64_t n : config_.points_milestones) {
    if (earned_before.value() < n && earned >= n) {
      Reach(txn, member, "points_" + std::to_string(n));
    }
  }
}

void Milestones::Reach(Txn& txn, MemberRecord& member, const std::string& id) {
  for (const auto& badge : member.member().badges()) {
    if (badge.id() == id) return;
  }
  const std::string title = BadgeTitle(id);
  // Stored without the title (the record is rewritten on every purchase); views add it.
  v1::Badge* badge = member.mutable_member()->add_badges();
  badge->set_id(id);
  badge->set_reached_at_ms(clock_.NowMs());
  Points bonus(0);
  if (auto it = config_.milestone_bonus.find(id); it != config_.milestone_bonus.end()) {
    bonus = Points(it->second);
  }
  v1::LoyaltyEvent event;
  auto* reached = event.mutable_milestone_reached();
  reached->set_milestone_id(id);
  reached->set_title(title);
  reached->set_bonus_points(bonus.value());
  ledger_.Emit(txn, member, std::move(event));
  if (!bonus.positive()) return;
  Posting posting = CreditPosting(v1::LEDGER_KIND_MILESTONE, member.member().balance(), bonus);
  posting.reason = "milestone: " + title;
  posting.source_id = id;
  posting.metrics_source = "milestone";
  v1::LoyaltyEvent awarded_event;
  auto* awarded = awarded_event.mutable_points_awarded();
  awarded->set_points(bonus.value());
  awarded->set_reason("milestone: " + title);
  awarded->set_source("milestone");
  ledger_.Post(txn, member, std::move(posting), std::move(awarded_event));
}

}  // namespace loyalty::accrual
