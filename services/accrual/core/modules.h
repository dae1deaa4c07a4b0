// Accrual's domain modules, wired once by AccrualCore; the flows take them from here.
#pragma once

#include "common/clock.h"
#include "common/store.h"
#include "services/accrual/core/accrual_config.h"
#include "services/accrual/core/campaign_book.h"
#include "services/accrual/core/hold_book.h"
#include "services/accrual/core/ledger.h"
#include "services/accrual/core/member_book.h"
#include "services/accrual/core/milestones.h"
#include "services/accrual/core/tier_policy.h"
#include "services/accrual/core/timers.h"

namespace loyalty::accrual {

struct Modules {
  const AccrualConfig& config;
  const Clock& clock;
  const Store& store;
  MemberBook& members;
  Timers& timers;
  Ledger& ledger;
  Milestones& milestones;
  Tiers& tiers;
  CampaignBook& campaigns;
  PartnerStats& partners;
  HoldBook& holds;
};

}  // namespace loyalty::accrual
