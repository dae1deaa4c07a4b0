// The commands that publish point-of-sale events to Kafka, as a till or a shop would: the
// value is the message in protobuf binary, the key is the member id (so that one member's
// events stay in one partition, in order).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>
#include <limits>

#include "common/ids.h"
#include "loyalty/v1/purchases.pb.h"
#include "tools/loyaltyctl/commands.h"
#include "tools/loyaltyctl/format.h"

namespace loyalty::ctl {
namespace {

constexpr int64_t kMaxAmount = std::numeric_limits<int64_t>::max();

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The ids accrual accepts for purchases and refunds; checked here so that a typo is a usage
// error rather than a dead-lettered event.
std::string CheckId(const std::string& name, const std::string& id) {
  bool valid =
      !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '@';
      });
  if (!valid) throw UsageError(name + ": use 1-128 letters, digits and _ - . : @");
  return id;
}

std::string CheckCurrency(std::string currency) {
  if (currency.size() != 3 || !std::all_of(currency.begin(), currency.end(),
                                           [](unsigned char c) { return std::isalpha(c); })) {
    throw UsageError("--currency: '" + currency + "' is not an ISO-4217 code such as UAH");
  }
  std::transform(currency.begin(), currency.end(), currency.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return currency;
}

}  // namespace

v1::PurchaseEvent PurchaseFromArgs(const Args& args, const std::string& id_prefix) {
  v1::PurchaseEvent purchase;
  purchase.set_member_id(args.words()[0]);
  purchase.set_amount_minor(args.WordInt(1, "AMOUNT_MINOR", 1, kMaxAmount));
  purchase.set_currency(CheckCurrency(args.Get("currency", "UAH")));
  purchase.set_purchase_id(args.Has("purchase-id")
                               ? CheckId("--purchase-id", args.Get("purchase-id"))
                               : NewId(id_prefix, NowMs()));
  purchase.set_store_id(args.Get("store"));
  purchase.set_partner_id(args.Get("partner"));
  if (args.Has("sku") || args.Has("category") || args.Has("quantity")) {
    // One line for the whole amount.
    v1::PurchaseLine& line = *purchase.add_lines();
    line.set_sku(args.Get("sku"));
    line.set_category(args.Get("category"));
    line.set_quantity(args.GetInt("quantity", 1, 1, 1'000'000'000));
    if (purchase.amount_minor() % line.quantity() == 0) {
      line.set_unit_price_minor(purchase.amount_minor() / line.quantity());
    }
  }
  purchase.set_occurred_at_ms(NowMs());
  return purchase;
}

void RunPurchase(Ctl& ctl, const Args& args) {
  v1::PurchaseEvent purchase = PurchaseFromArgs(args, "p");

  ctl.Publish(kPurchasesTopic, purchase.member_id(), purchase.SerializeAsString());
  if (ctl.json()) return ctl.PrintJson(purchase);
  Fields fields;
  fields.Add("purchase", purchase.purchase_id())
      .Add("member", purchase.member_id().empty() ? "- (non-member)" : purchase.member_id())
      .Add("amount", Money(purchase.amount_minor(), purchase.currency()) + " (" +
                         std::to_string(purchase.amount_minor()) + " minor units)");
  if (!purchase.store_id().empty()) fields.Add("store", purchase.store_id());
  if (!purchase.partner_id().empty()) fields.Add("partner", purchase.partner_id());
  for (const auto& line : purchase.lines()) {
    fields.Add("line", "sku=" + line.sku() + " category=" + line.category() +
                           " quantity=" + std::to_string(line.quantity()));
  }
  fields.Add("published", std::string(kPurchasesTopic) + " (acknowledged by the broker)");
  fields.Print(std::cout);
}

void RunRefund(Ctl& ctl, const Args& args) {
  v1::RefundEvent refund;
  refund.set_purchase_id(CheckId("PURCHASE_ID", args.words()[0]));
  refund.set_amount_minor(args.WordInt(1, "AMOUNT_MINOR", 1, kMaxAmount));
  refund.set_member_id(args.Required("member"));
  refund.set_refund_id(args.Has("refund-id") ? CheckId("--refund-id", args.Get("refund-id"))
                                             : NewId("r", NowMs()));
  refund.set_occurred_at_ms(NowMs());

  ctl.Publish(kRefundsTopic, refund.member_id(), refund.SerializeAsString());
  if (ctl.json()) return ctl.PrintJson(refund);
  Fields fields;
  fields.Add("refund", refund.refund_id())
      .Add("purchase", refund.purchase_id())
      .Add("member", refund.member_id())
      .Add("amount", Money(refund.amount_minor(), "") + " (" +
                         std::to_string(refund.amount_minor()) + " minor units)")
      .Add("published", std::string(kRefundsTopic) + " (acknowledged by the broker)");
  fields.Print(std::cout);
}

void RunActivity(Ctl& ctl, const Args& args) {
  v1::ActivityEvent activity;
  activity.set_member_id(args.words()[0]);
  // Types are accrual's configuration (activities rules); an unknown one is dead-lettered
  // there, so only the form is checked here.
  activity.set_type(CheckId("TYPE", args.words()[1]));
  activity.set_object_id(args.Get("object"));
  activity.set_activity_id(args.Has("activity-id")
                               ? CheckId("--activity-id", args.Get("activity-id"))
                               : NewId("a", NowMs()));
  activity.set_occurred_at_ms(NowMs());

  ctl.Publish(kActivitiesTopic, activity.member_id(), activity.SerializeAsString());
  if (ctl.json()) return ctl.PrintJson(activity);
  Fields fields;
  fields.Add("activity", activity.activity_id())
      .Add("member", activity.member_id())
      .Add("type", activity.type())
      .Add("object", activity.object_id().empty() ? "-" : activity.object_id())
      .Add("published", std::string(kActivitiesTopic) + " (acknowledged by the broker)");
  fields.Print(std::cout);
}

}  // namespace loyalty::ctl
