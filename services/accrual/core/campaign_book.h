// Campaigns: the store of campaigns (create, update, end; every change audited with actor
// and time), their order for the earning engine, and the accounting of what each has
// spent of its budget and of each member's cap.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/accrual.pb.h"
#include "services/accrual/core/accrual_config.h"
#include "services/accrual/core/txn.h"

namespace loyalty::accrual {

// The checks every saved campaign passes (the effect's own through its table entry).
Status ValidateCampaign(const v1::Campaign& campaign);

class CampaignBook {
 public:
  CampaignBook(const Store& store, const Clock& clock);

  StatusOr<v1::Campaign> Create(Txn& txn, const v1::CreateCampaignRequest& request);
  StatusOr<v1::Campaign> Update(Txn& txn, const v1::UpdateCampaignRequest& request);
  StatusOr<v1::Campaign> End(Txn& txn, const v1::EndCampaignRequest& request);
  StatusOr<v1::Campaign> Get(const std::string& campaign_id) const;
  v1::ListCampaignsResponse List(bool include_ended) const;
  StatusOr<v1::ListCampaignAuditResponse> Audit(const std::string& campaign_id) const;

  // The live campaigns, highest priority first (rebuilt only when one is saved: it is read
  // for every purchase).
  const std::vector<v1::Campaign*>& ByPriority();
  // Counts a purchase's shares against their campaigns' budgets and members' caps; applied
  // holds the campaigns of the shares, in order (from ComputeEarning).
  void Spend(Txn& txn, MemberRecord& member, const v1::EarnBreakdown& breakdown,
             const std::vector<v1::Campaign*>& applied);
  // Names each share's campaign: stored entries and events carry ids only (names change and
  // would be copied into every record); answers to people show the names.
  void AddNames(v1::EarnBreakdown& breakdown) const;
  void WriteDirty(const Txn& txn, StagedWrite& write) const;

 private:
  v1::Campaign Save(Txn& txn, v1::Campaign campaign, const std::string& action,
                    const std::string& actor);

  const Store& store_;
  const Clock& clock_;
  std::map<std::string, v1::Campaign> campaigns_;
  std::vector<v1::Campaign*> order_;  // live ones, highest priority first
  bool order_valid_ = false;
  uint64_t audit_sequence_ = 0;
};

// Points issued and clawed back per partner, for the partner report.
class PartnerStats {
 public:
  PartnerStats(const Store& store, const AccrualConfig& config);
  void Issued(Txn& txn, const std::string& partner_id, Points points);
  void ClawedBack(Txn& txn, const std::string& partner_id, Points points);
  v1::ListPartnerStatsResponse List() const;
  void WriteDirty(const Txn& txn, StagedWrite& write) const;

 private:
  std::map<std::string, v1::PartnerStats> stats_;
};

}  // namespace loyalty::accrual
