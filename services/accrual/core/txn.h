// The changes of one accrual call or batch: the common unit of work plus the records the
// modules keep in memory and write once per transaction (a member touched ten times in a
// batch is written once), and the ledger facts reported after the write is durable.
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/unit_of_work.h"
#include "loyalty/v1/accrual.pb.h"
#include "loyalty/v1/internal.pb.h"
#include "services/accrual/core/types.h"

namespace loyalty::accrual {

// The points moved by one ledger entry, reported after it is durable (for metrics).
struct LedgerFacts {
  v1::LedgerKind kind = v1::LEDGER_KIND_UNSPECIFIED;
  int64_t points = 0;  // earned, clawed back, awarded, adjusted (signed), held, captured, released
  std::string source;  // for awards: welcome, referral, ...
};

struct Txn : UnitOfWork {
  std::unordered_set<MemberRecord*> dirty_members;  // records stay put in MemberBook
  std::unordered_map<std::string, v1::internal::PurchaseRecord> purchases;  // by purchase_id
  std::unordered_map<std::string, std::string> refunds;                 // refund_id -> purchase_id
  std::unordered_map<std::string, v1::internal::ParkedRefunds> parked;  // by purchase_id
  bool member_count_changed = false;
  std::unordered_set<const v1::Campaign*> dirty_campaigns;  // records stay put in CampaignBook
  std::set<std::string> dirty_partners;
  std::set<std::string> activities;        // activity ids applied in this batch
  std::set<std::string> activity_objects;  // (member, type, object) rewarded in this batch
  std::vector<LedgerFacts> facts;
};

}  // namespace loyalty::accrual
