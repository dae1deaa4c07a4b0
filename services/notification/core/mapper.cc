#include "services/notification/core/mapper.h"

#include "services/notification/core/i18n.h"

namespace loyalty::notification {
namespace {

void Points(Vars& vars, const std::string& prefix, int64_t n, const std::string& language) {
  vars[prefix] = std::to_string(n);
  vars[prefix + "_word"] = PointsWord(language, n);
}

std::string Bool(bool b) { return b ? "true" : ""; }

// A purchase: points_earned if it credited spendable points, else purchase_thanks.
void MapPointsEarned(const v1::LoyaltyEvent& event, const std::string& lang, Mapped& m) {
  Vars& v = m.vars;
  const auto& e = event.points_earned();
  int64_t credited = e.has_breakdown() ? e.breakdown().credited() : e.points();
  v["purchase_id"] = e.purchase_id();
  if (credited > 0 && !e.breakdown().pending()) {
    m.kind = "points_earned";
    Points(v, "points", credited, lang);
    Points(v, "balance", e.balance().available(), lang);
    return;
  }
  // Pending through the return window (or all of it repaid debt): thank now, the points
  // come with pending_released.
  m.kind = "purchase_thanks";
  int64_t coming = e.breakdown().pending() ? credited : 0;
  Points(v, "points", coming, lang);
  v["has_points"] = Bool(coming > 0);
}

void MapTierChanged(const v1::LoyaltyEvent& event, const LocalZone& zone, Mapped& m) {
  Vars& v = m.vars;
  const auto& e = event.tier_changed();
  m.kind = "tier_changed";
  v["from_tier"] = e.from_tier();
  v["to_tier"] = e.to_tier();
  v["upgrade"] = Bool(e.upgrade());
  v["has_next_evaluation"] = Bool(e.next_evaluation_at_ms() > 0);
  if (e.next_evaluation_at_ms() > 0) {
    v["next_evaluation"] =
        FormatDate(e.next_evaluation_at_ms(), zone.OffsetMinutesAt(e.next_evaluation_at_ms()));
  }
}

void MapRewardRedeemed(const v1::LoyaltyEvent& event, const std::string& lang,
                       const LocalZone& zone, Mapped& m) {
  Vars& v = m.vars;
  const auto& e = event.reward_redeemed();
  m.kind = "reward_redeemed";
  m.transactional = true;
  v["reward_name"] = e.reward_name();
  std::string codes;
  for (const auto& c : e.voucher_codes()) codes += (codes.empty() ? "" : ", ") + c;
  v["voucher_codes"] = codes;
  Points(v, "points", e.points(), lang);
  v["has_valid_until"] = Bool(e.valid_until_ms() > 0);
  if (e.valid_until_ms() > 0)
    v["valid_until"] = FormatDate(e.valid_until_ms(), zone.OffsetMinutesAt(e.valid_until_ms()));
}

void MapVoucherUsed(const v1::LoyaltyEvent& event, Mapped& m) {
  const auto& e = event.voucher_used();
  m.kind = "voucher_used";
  m.transactional = true;
  m.vars["voucher_code"] = e.voucher_code();
  m.vars["reward_id"] = e.reward_id();
  m.vars["store_id"] = e.store_id();
}

void MapMilestone(const v1::LoyaltyEvent& event, const std::string& lang, Mapped& m) {
  const auto& e = event.milestone_reached();
  m.kind = "milestone";
  m.vars["title"] = e.title().empty() ? e.milestone_id() : e.title();
  m.vars["milestone_id"] = e.milestone_id();
  Points(m.vars, "bonus_points", e.bonus_points(), lang);
  m.vars["has_bonus"] = Bool(e.bonus_points() > 0);
}

}  // namespace

std::optional<Mapped> MapEvent(const v1::LoyaltyEvent& event, const std::string& lang,
                               const LocalZone& zone) {
  Mapped m;
  Vars& v = m.vars;
  v["member_id"] = event.member_id();
  switch (event.payload_case()) {
    case v1::LoyaltyEvent::kMemberEnrolled:
      m.kind = "welcome";
      v["tier"] = event.member_enrolled().tier();
      break;
    case v1::LoyaltyEvent::kPointsEarned:
      MapPointsEarned(event, lang, m);
      break;
    case v1::LoyaltyEvent::kPointsAwarded: {
      const auto& e = event.points_awarded();
      if (e.source() == "welcome" || e.source() == "referral" || e.points() <= 0) {
        return std::nullopt;
      }
      m.kind = "points_earned";
      Points(v, "points", e.points(), lang);
      Points(v, "balance", e.balance().available(), lang);
      break;
    }
    case v1::LoyaltyEvent::kActivityRewarded: {
      const auto& e = event.activity_rewarded();
      if (e.points() <= 0) return std::nullopt;
      m.kind = "points_earned";
      Points(v, "points", e.points(), lang);
      Points(v, "balance", e.balance().available(), lang);
      break;
    }
    case v1::LoyaltyEvent::kPendingReleased: {
      const auto& e = event.pending_released();
      m.kind = "pending_released";
      v["purchase_id"] = e.purchase_id();
      Points(v, "points", e.points(), lang);
      Points(v, "balance", e.balance().available(), lang);
      break;
    }
    case v1::LoyaltyEvent::kTierChanged:
      MapTierChanged(event, zone, m);
      break;
    case v1::LoyaltyEvent::kPointsExpiringSoon: {
      const auto& e = event.points_expiring_soon();
      m.kind = "expiring_soon";
      Points(v, "points", e.points(), lang);
      Points(v, "balance", e.balance().available(), lang);
      v["expires_on"] = FormatDate(e.expires_at_ms(), zone.OffsetMinutesAt(e.expires_at_ms()));
      break;
    }
    case v1::LoyaltyEvent::kRewardRedeemed:
      MapRewardRedeemed(event, lang, zone, m);
      break;
    case v1::LoyaltyEvent::kVoucherUsed:
      MapVoucherUsed(event, m);
      break;
    case v1::LoyaltyEvent::kReferralRewarded: {
      const auto& e = event.referral_rewarded();
      m.kind = "referral_rewarded";
      Points(v, "points", e.points(), lang);
      v["is_referrer"] = Bool(e.role() == "referrer");
      break;
    }
    case v1::LoyaltyEvent::kMilestoneReached:
      MapMilestone(event, lang, m);
      break;
    default:
      return std::nullopt;
  }
  return m;
}

}  // namespace loyalty::notification
