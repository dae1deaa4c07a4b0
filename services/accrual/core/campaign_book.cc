#include "services/accrual/core/campaign_book.h"

#include <algorithm>

#include "common/field_limits.h"
#include "common/ids.h"
#include "common/key_codec.h"
#include "services/accrual/core/campaign_effects.h"
#include "services/accrual/core/validation.h"

namespace loyalty::accrual {
namespace {
constexpr char kPartnerStatsPrefix[] = "partner/";
}  // namespace

Status ValidateCampaign(const v1::Campaign& c) {
  if (c.name().empty()) return InvalidArgument("campaign.name: required");
  const CampaignEffectSpec* effect = FindCampaignEffect(c.effect());
  if (effect == nullptr) return InvalidArgument("campaign.effect: required");
  if (Status s = effect->validate(c.value()); !s.ok()) return s;
  if (c.ends_at_ms() != 0 && c.ends_at_ms() <= c.starts_at_ms()) {
    return InvalidArgument("campaign.ends_at_ms: must be after starts_at_ms");
  }
  if (c.budget_points() < 0) return InvalidArgument("campaign.budget_points: must be >= 0");
  if (c.per_member_cap() < 0) return InvalidArgument("campaign.per_member_cap: must be >= 0");
  if (c.min_basket_minor() < 0) return InvalidArgument("campaign.min_basket_minor: must be >= 0");
  return Status::Ok();
}

CampaignBook::CampaignBook(const Store& store, const Clock& clock) : store_(store), clock_(clock) {
  store_.Scan(cf::kCampaigns, "", "", [&](std::string_view key, std::string_view v) {
    v1::internal::CampaignRecord record;
    record.ParseFromArray(v.data(), static_cast<int>(v.size()));
    campaigns_[std::string(key)] = record.campaign();
    return true;
  });
}

v1::Campaign CampaignBook::Save(Txn& txn, v1::Campaign campaign, const std::string& action,
                                const std::string& actor) {
  int64_t now = clock_.NowMs();
  campaign.set_updated_by(actor);
  campaign.set_updated_at_ms(now);
  v1::Campaign& saved = campaigns_[campaign.campaign_id()];
  saved = campaign;
  txn.dirty_campaigns.insert(&saved);
  order_valid_ = false;
  v1::CampaignAudit audit;
  audit.set_campaign_id(campaign.campaign_id());
  audit.set_action(action);
  audit.set_actor(actor);
  audit.set_principal(txn.principal);
  audit.set_at_ms(now);
  *audit.mutable_campaign() = campaign;
  std::string key;
  keys::AppendString(key, campaign.campaign_id());
  keys::AppendI64(key, now);
  keys::AppendU64(key, audit_sequence_++);
  txn.Put(cf::kCampaignAudit, key, audit.SerializeAsString());
  return campaign;
}

StatusOr<v1::Campaign> CampaignBook::Create(Txn& txn, const v1::CreateCampaignRequest& request) {
  if (request.actor().empty()) return InvalidArgument("actor: required");
  v1::Campaign c = request.campaign();
  if (Status s = ValidateCampaign(c); !s.ok()) return s;
  if (c.campaign_id().empty()) {
    c.set_campaign_id(NewId("c", clock_.NowMs()));
  } else if (!ValidId(c.campaign_id())) {
    return InvalidArgument("campaign.campaign_id: use 1-128 letters, digits and _ - . : @");
  } else if (campaigns_.count(c.campaign_id())) {
    return AlreadyExists("campaign.campaign_id: '" + Quote(c.campaign_id()) + "' exists");
  }
  c.set_spent_points(0);
  c.set_ended(false);
  c.set_created_by(request.actor());
  c.set_created_at_ms(clock_.NowMs());
  return Save(txn, std::move(c), "created", request.actor());
}

StatusOr<v1::Campaign> CampaignBook::Update(Txn& txn, const v1::UpdateCampaignRequest& request) {
  if (request.actor().empty()) return InvalidArgument("actor: required");
  auto it = campaigns_.find(request.campaign().campaign_id());
  if (it == campaigns_.end()) {
    return NotFound("campaign.campaign_id: '" + Quote(request.campaign().campaign_id()) +
                    "' not found");
  }
  const v1::Campaign& old = it->second;
  if (old.ended()) return FailedPrecondition("campaign.campaign_id: campaign ended");
  v1::Campaign c = request.campaign();
  if (Status s = ValidateCampaign(c); !s.ok()) return s;
  if (c.budget_points() > 0 && c.budget_points() < old.spent_points()) {
    return InvalidArgument("campaign.budget_points: below the " +
                           std::to_string(old.spent_points()) + " already spent");
  }
  if (c.per_member_cap() > 0 && old.per_member_cap() == 0 && old.spent_points() > 0) {
    // Members' points are counted only while a campaign has a cap (see decisions.md).
    return FailedPrecondition(
        "campaign.per_member_cap: cannot be added once the campaign has issued points; "
        "end it and create a capped one");
  }
  c.set_spent_points(old.spent_points());
  c.set_ended(false);
  c.set_created_by(old.created_by());
  c.set_created_at_ms(old.created_at_ms());
  return Save(txn, std::move(c), "updated", request.actor());
}

StatusOr<v1::Campaign> CampaignBook::End(Txn& txn, const v1::EndCampaignRequest& request) {
  if (request.actor().empty()) return InvalidArgument("actor: required");
  auto it = campaigns_.find(request.campaign_id());
  if (it == campaigns_.end()) {
    return NotFound("campaign_id: '" + Quote(request.campaign_id()) + "' not found");
  }
  v1::Campaign c = it->second;
  c.set_ended(true);
  return Save(txn, std::move(c), "ended", request.actor());
}

StatusOr<v1::Campaign> CampaignBook::Get(const std::string& campaign_id) const {
  auto it = campaigns_.find(campaign_id);
  if (it == campaigns_.end())
    return NotFound("campaign_id: '" + Quote(campaign_id) + "' not found");
  return it->second;
}

v1::ListCampaignsResponse CampaignBook::List(bool include_ended) const {
  v1::ListCampaignsResponse response;
  for (const auto& [id, c] : campaigns_) {
    if (include_ended || !c.ended()) *response.add_campaigns() = c;
  }
  return response;
}

StatusOr<v1::ListCampaignAuditResponse> CampaignBook::Audit(const std::string& campaign_id) const {
  if (campaign_id.empty()) return InvalidArgument("campaign_id: required");
  std::string prefix;
  keys::AppendString(prefix, campaign_id);
  v1::ListCampaignAuditResponse response;
  store_.Scan(cf::kCampaignAudit, prefix, "", [&](std::string_view key, std::string_view value) {
    if (key.substr(0, prefix.size()) != prefix) return false;
    response.add_entries()->ParseFromArray(value.data(), static_cast<int>(value.size()));
    return true;
  });
  return response;
}

const std::vector<v1::Campaign*>& CampaignBook::ByPriority() {
  if (!order_valid_) {
    order_.clear();
    for (auto& [id, c] : campaigns_) {
      if (!c.ended()) order_.push_back(&c);
    }
    std::stable_sort(
        order_.begin(), order_.end(),
        [](const v1::Campaign* a, const v1::Campaign* b) { return a->priority() > b->priority(); });
    order_valid_ = true;
  }
  return order_;
}

void CampaignBook::Spend(Txn& txn, MemberRecord& member, const v1::EarnBreakdown& breakdown,
                         const std::vector<v1::Campaign*>& applied) {
  for (int i = 0; i < breakdown.campaigns_size(); ++i) {
    const v1::CampaignShare& share = breakdown.campaigns(i);
    v1::Campaign& campaign = *applied[i];
    campaign.set_spent_points(campaign.spent_points() + share.points());
    // Counted per member only for capped campaigns: the record is rewritten on every purchase.
    if (campaign.per_member_cap() > 0) {
      (*member.mutable_campaign_points())[share.campaign_id()] += share.points();
    }
    txn.dirty_campaigns.insert(&campaign);
  }
}

void CampaignBook::AddNames(v1::EarnBreakdown& breakdown) const {
  for (auto& share : *breakdown.mutable_campaigns()) {
    if (auto it = campaigns_.find(share.campaign_id()); it != campaigns_.end()) {
      share.set_name(it->second.name());
    }
  }
}

void CampaignBook::WriteDirty(const Txn& txn, StagedWrite& write) const {
  for (const v1::Campaign* campaign : txn.dirty_campaigns) {
    v1::internal::CampaignRecord record;
    *record.mutable_campaign() = *campaign;
    write.Put(cf::kCampaigns, campaign->campaign_id(), record.SerializeAsString());
  }
}

PartnerStats::PartnerStats(const Store& store, const AccrualConfig& config) {
  store.Scan(cf::kMeta, kPartnerStatsPrefix, "", [&](std::string_view key, std::string_view v) {
    if (key.substr(0, sizeof(kPartnerStatsPrefix) - 1) != kPartnerStatsPrefix) return false;
    v1::PartnerStats stats;
    stats.ParseFromArray(v.data(), static_cast<int>(v.size()));
    stats_[stats.partner_id()] = stats;
    return true;
  });
  for (const auto& partner : config.partners) {
    auto& stats = stats_[partner.partner_id];
    stats.set_partner_id(partner.partner_id);
    stats.set_earn_rate_bp(partner.earn_rate_bp);
  }
}

void PartnerStats::Issued(Txn& txn, const std::string& partner_id, Points points) {
  auto& stats = stats_[partner_id];
  stats.set_points_issued(stats.points_issued() + points.value());
  stats.set_purchases(stats.purchases() + 1);
  txn.dirty_partners.insert(partner_id);
}

void PartnerStats::ClawedBack(Txn& txn, const std::string& partner_id, Points points) {
  auto& stats = stats_[partner_id];
  stats.set_points_clawed_back(stats.points_clawed_back() + points.value());
  txn.dirty_partners.insert(partner_id);
}

v1::ListPartnerStatsResponse PartnerStats::List() const {
  v1::ListPartnerStatsResponse response;
  for (const auto& [id, stats] : stats_) *response.add_partners() = stats;
  return response;
}

void PartnerStats::WriteDirty(const Txn& txn, StagedWrite& write) const {
  for (const auto& id : txn.dirty_partners) {
    write.Put(cf::kMeta, kPartnerStatsPrefix + id, stats_.at(id).SerializeAsString());
  }
}

}  // namespace loyalty::accrual
