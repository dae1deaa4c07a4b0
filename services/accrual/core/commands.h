// Typed input for accrual: the Kafka adapter decodes each consumed record into one of these
// (services/accrual/input_decoder.h); the core applies each with one flow and never sees
// bytes it has to parse. The source (topic, position, original bytes) is opaque to the
// flows: the batch stores its offset, and a rejected input is dead-lettered with it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>

#include "common/input.h"
#include "loyalty/v1/purchases.pb.h"
#include "services/accrual/core/txn.h"

namespace loyalty::accrual {

inline constexpr char kPurchasesTopic[] = "loyalty.purchases.v1";
inline constexpr char kRefundsTopic[] = "loyalty.refunds.v1";
inline constexpr char kActivitiesTopic[] = "loyalty.activities.v1";

struct PurchaseCmd {
  v1::PurchaseEvent purchase;
};
struct RefundCmd {
  v1::RefundEvent refund;
};
struct ActivityCmd {
  v1::ActivityEvent activity;
};
using Command = std::variant<PurchaseCmd, RefundCmd, ActivityCmd, Undecodable>;

using Input = Decoded<Command>;

using Decoder = DecoderOf<Command>;  // common/input.h

// What one batch of input did, for metrics and tests.
struct BatchResult {
  int64_t purchases_applied = 0;
  int64_t refunds_applied = 0;
  int64_t refunds_parked = 0;  // waiting for their purchase
  int64_t duplicates = 0;
  int64_t non_member_purchases = 0;
  int64_t repeat_purchases = 0;    // by members who had bought before (repeat-purchase rate)
  int64_t member_spend_minor = 0;  // for members' vs non-members' spend
  int64_t non_member_spend_minor = 0;
  int64_t points_earned = 0;  // base points of applied purchases
  int64_t points_clawed_back = 0;
  int64_t activities_applied = 0;
  std::map<std::string, int64_t> dead_lettered;  // by "<topic>|<reason kind>"
};

// Dead-letters source in txn (common/dead_letter.h) and counts it.
void Reject(Txn& txn, const InputMessage& source, const std::string& kind,
            const std::string& reason, BatchResult& result);

}  // namespace loyalty::accrual
