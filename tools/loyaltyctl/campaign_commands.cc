// The commands for accrual's earning engine: campaigns (create, list, show, end, audit), the
// dry run of a purchase, and the partners' figures.
#include <chrono>
#include <iostream>

#include "services/accrual/core/campaign_effects.h"
#include "tools/loyaltyctl/commands.h"
#include "tools/loyaltyctl/format.h"

namespace loyalty::ctl {
namespace {

using Stub = v1::AccrualService::Stub;

// The service refuses larger values; checked here so that a typo is a usage error.
constexpr int64_t kMaxPoints = 1'000'000'000;
constexpr int64_t kMaxAmount = 100'000'000'000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// --effect by any of the names in accrual's table of effects.
const accrual::CampaignEffectSpec& ParseEffect(const std::string& text) {
  if (const auto* spec = accrual::FindCampaignEffect(text)) return *spec;
  std::string names;
  for (const auto& spec : accrual::CampaignEffects()) {
    names += (names.empty() ? "" : ", ") + std::string(spec.names.front());
  }
  throw UsageError("--effect: '" + text + "' is not one of " + names);
}

// --value in the effect's terms: basis points (or 2x, 5%) for a multiplier and a line bonus,
// whole points for a fixed bonus.
int64_t ParseValue(const accrual::CampaignEffectSpec& effect, const std::string& text) {
  if (effect.unit == accrual::ValueUnit::kPoints) return ParseInt("--value", text, 1, kMaxPoints);
  return ParseBasisPoints("--value", text);
}

void AddList(const Args& args, const std::string& flag,
             google::protobuf::RepeatedPtrField<std::string>* out) {
  if (!args.Has(flag)) return;
  for (auto& item : ParseList("--" + flag, args.Get(flag))) out->Add(std::move(item));
}

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

// 0 means no limit.
std::string Limit(int64_t value) { return value == 0 ? "-" : std::to_string(value); }

void PrintCampaign(Ctl& ctl, const v1::Campaign& c, bool with_key) {
  if (ctl.json()) return ctl.PrintJson(c);
  Fields fields;
  fields.Add("campaign", c.campaign_id())
      .Add("name", c.name())
      .Add("state", CampaignState(c, NowMs()))
      .Add("effect", EffectName(c.effect()))
      .Add("value",
           CampaignValueText(c.effect(), c.value()) + " (" + std::to_string(c.value()) + ")")
      .Add("starts", c.starts_at_ms() == 0 ? "- (at once)" : IsoUtc(c.starts_at_ms()))
      .Add("ends", c.ends_at_ms() == 0 ? "- (open-ended)" : IsoUtc(c.ends_at_ms()))
      .Add("categories", JoinOrDash(c.categories()))
      .Add("skus", JoinOrDash(c.skus()))
      .Add("stores", JoinOrDash(c.stores()))
      .Add("partners", JoinOrDash(c.partners()))
      .Add("tiers", JoinOrDash(c.tiers()))
      .Add("segments", JoinOrDash(c.segments()))
      .Add("min basket", c.min_basket_minor() == 0 ? "-" : Money(c.min_basket_minor(), ""))
      .Add("per-member cap", Limit(c.per_member_cap()))
      .Add("budget", c.budget_points() == 0 ? "- (unlimited)" : std::to_string(c.budget_points()))
      .Add("spent", std::to_string(c.spent_points()))
      .Add("priority", std::to_string(c.priority()))
      .Add("exclusive", c.exclusive() ? "yes" : "no")
      .Add("created", OrDash(c.created_by()) + " at " + IsoUtc(c.created_at_ms()))
      .Add("updated", OrDash(c.updated_by()) + " at " + IsoUtc(c.updated_at_ms()));
  if (with_key) fields.Add("idempotency key", ctl.IdempotencyKey());
  fields.Print(std::cout);
}

}  // namespace

void RunCampaignCreate(Ctl& ctl, const Args& args) {
  v1::CreateCampaignRequest request;
  v1::Campaign& c = *request.mutable_campaign();
  c.set_campaign_id(args.Get("id"));  // empty: the service makes one up
  c.set_name(args.Required("name"));
  const accrual::CampaignEffectSpec& effect = ParseEffect(args.Required("effect"));
  c.set_effect(effect.effect);
  c.set_value(ParseValue(effect, args.Required("value")));
  if (args.Has("starts")) c.set_starts_at_ms(ParseTimeMs("--starts", args.Get("starts")));
  if (args.Has("ends")) c.set_ends_at_ms(ParseTimeMs("--ends", args.Get("ends")));
  if (c.ends_at_ms() != 0 && c.ends_at_ms() <= c.starts_at_ms()) {
    throw UsageError("--ends: must be after --starts");
  }
  AddList(args, "category", c.mutable_categories());
  AddList(args, "sku", c.mutable_skus());
  AddList(args, "store", c.mutable_stores());
  AddList(args, "partner", c.mutable_partners());
  AddList(args, "tier", c.mutable_tiers());
  AddList(args, "segment", c.mutable_segments());
  c.set_min_basket_minor(args.GetInt("min-basket", 0, 0, kMaxAmount));
  c.set_per_member_cap(args.GetInt("cap", 0, 0, kMaxPoints));
  c.set_budget_points(args.GetInt("budget", 0, 0, kMaxPoints));
  c.set_priority(static_cast<int32_t>(args.GetInt("priority", 0, -1'000'000, 1'000'000)));
  c.set_exclusive(args.Has("exclusive"));
  request.set_actor(args.Required("actor"));
  request.set_idempotency_key(ctl.IdempotencyKey());
  v1::Campaign created;
  ctl.Call([&](Stub& stub,
               grpc::ClientContext* ctx) { return stub.CreateCampaign(ctx, request, &created); },
           /*mutating=*/true);
  PrintCampaign(ctl, created, /*with_key=*/true);
}

void RunCampaignList(Ctl& ctl, const Args& args) {
  v1::ListCampaignsRequest request;
  request.set_include_ended(args.Has("all"));
  v1::ListCampaignsResponse response;
  ctl.Call([&](Stub& stub,
               grpc::ClientContext* ctx) { return stub.ListCampaigns(ctx, request, &response); },
           /*mutating=*/false);
  if (ctl.json()) return ctl.PrintJson(response);
  if (response.campaigns().empty()) {
    std::cout << (request.include_ended() ? "no campaigns\n"
                                          : "no campaigns (--all includes ended ones)\n");
    return;
  }
  int64_t now = NowMs();
  bool any_exclusive = false;
  Table table({{"ID"},
               {"STATE"},
               {"PRIO", Table::kRight},
               {"VALUE"},
               {"STARTS (UTC)"},
               {"ENDS (UTC)"},
               {"SPENT", Table::kRight},
               {"BUDGET", Table::kRight},
               {"NAME"}});
  for (const auto& c : response.campaigns()) {
    any_exclusive = any_exclusive || c.exclusive();
    table.AddRow({c.campaign_id(), CampaignState(c, now),
                  std::to_string(c.priority()) + (c.exclusive() ? "!" : ""),
                  CampaignValueText(c.effect(), c.value()), IsoUtc(c.starts_at_ms()),
                  IsoUtc(c.ends_at_ms()), std::to_string(c.spent_points()),
                  Limit(c.budget_points()), c.name()});
  }
  table.Print(std::cout);
  if (any_exclusive) std::cout << "(! after the priority: exclusive)\n";
}

void RunCampaignShow(Ctl& ctl, const Args& args) {
  v1::GetCampaignRequest request;
  request.set_campaign_id(args.words()[0]);
  v1::Campaign campaign;
  ctl.Call([&](Stub& stub,
               grpc::ClientContext* ctx) { return stub.GetCampaign(ctx, request, &campaign); },
           /*mutating=*/false);
  PrintCampaign(ctl, campaign, /*with_key=*/false);
}

void RunCampaignEnd(Ctl& ctl, const Args& args) {
  v1::EndCampaignRequest request;
  request.set_campaign_id(args.words()[0]);
  request.set_actor(args.Required("actor"));
  request.set_idempotency_key(ctl.IdempotencyKey());
  v1::Campaign campaign;
  ctl.Call([&](Stub& stub,
               grpc::ClientContext* ctx) { return stub.EndCampaign(ctx, request, &campaign); },
           /*mutating=*/true);
  PrintCampaign(ctl, campaign, /*with_key=*/true);
}

void RunCampaignAudit(Ctl& ctl, const Args& args) {
  v1::ListCampaignAuditRequest request;
  request.set_campaign_id(args.words()[0]);
  v1::ListCampaignAuditResponse response;
  ctl.Call(
      [&](Stub& stub, grpc::ClientContext* ctx) {
        return stub.ListCampaignAudit(ctx, request, &response);
      },
      /*mutating=*/false);
  if (ctl.json()) return ctl.PrintJson(response);
  if (response.entries().empty()) {
    std::cout << "no audit entries\n";
    return;
  }
  Table table({{"TIME (UTC)"},
               {"ACTION"},
               {"ACTOR"},
               {"VALUE"},
               {"ENDS (UTC)"},
               {"BUDGET", Table::kRight},
               {"SPENT", Table::kRight}});
  for (const auto& entry : response.entries()) {
    const v1::Campaign& c = entry.campaign();
    table.AddRow({IsoUtc(entry.at_ms()), entry.action(), entry.actor(),
                  CampaignValueText(c.effect(), c.value()), IsoUtc(c.ends_at_ms()),
                  Limit(c.budget_points()), std::to_string(c.spent_points())});
  }
  table.Print(std::cout);
}

void RunSimulate(Ctl& ctl, const Args& args) {
  v1::PurchaseEvent purchase = PurchaseFromArgs(args, "sim");
  v1::SimulatePurchaseResponse response;
  ctl.Call(
      [&](Stub& stub, grpc::ClientContext* ctx) {
        return stub.SimulatePurchase(ctx, purchase, &response);
      },
      /*mutating=*/false);
  if (ctl.json()) return ctl.PrintJson(response);
  const v1::EarnBreakdown& b = response.breakdown();
  Fields fields;
  fields.Add("member", purchase.member_id())
      .Add("tier", response.member_tier().empty() ? "-" : response.member_tier())
      .Add("amount", Money(purchase.amount_minor(), purchase.currency()))
      .Add("points", std::to_string(response.points()) + " (not credited: a dry run)")
      .Add("base", std::to_string(b.base_points()) + " (" + PercentText(b.base_rate_bp()) +
                       (b.partner_id().empty() ? " tier " + b.tier() + " rate"
                                               : " rate of partner " + b.partner_id()) +
                       ")");
  if (b.campaigns().empty()) fields.Add("campaigns", "- (none applies)");
  for (const auto& share : b.campaigns()) {
    fields.Add("campaign", Signed(share.points()) + " " + share.campaign_id() +
                               (share.name().empty() ? "" : " (" + share.name() + ")"));
  }
  fields.Add("total", std::to_string(b.total_points()));
  if (b.debt_repaid() != 0) fields.Add("repays debt", std::to_string(b.debt_repaid()));
  // A dry run fills credited and pending only when the service knows them; absent, the
  // line would claim "0 credited", which is wrong.
  if (b.credited() != 0 || b.pending()) {
    fields.Add("would credit", std::to_string(b.credited()) +
                                   (b.pending() ? " to pending until " + IsoUtc(b.release_at_ms())
                                                : " to available"));
  }
  fields.Print(std::cout);
}

void RunPartners(Ctl& ctl, const Args&) {
  v1::ListPartnerStatsRequest request;
  v1::ListPartnerStatsResponse response;
  ctl.Call([&](Stub& stub,
               grpc::ClientContext* ctx) { return stub.ListPartnerStats(ctx, request, &response); },
           /*mutating=*/false);
  if (ctl.json()) return ctl.PrintJson(response);
  if (response.partners().empty()) {
    std::cout << "no partners\n";
    return;
  }
  Table table({{"PARTNER"},
               {"RATE", Table::kRight},
               {"PURCHASES", Table::kRight},
               {"ISSUED", Table::kRight},
               {"CLAWED BACK", Table::kRight}});
  for (const auto& p : response.partners()) {
    table.AddRow({p.partner_id(), p.earn_rate_bp() == 0 ? "-" : PercentText(p.earn_rate_bp()),
                  std::to_string(p.purchases()), std::to_string(p.points_issued()),
                  std::to_string(p.points_clawed_back())});
  }
  table.Print(std::cout);
}

}  // namespace loyalty::ctl
