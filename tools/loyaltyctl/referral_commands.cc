// The commands that call loyalty.v1.ReferralService (at --referral).
#include <iostream>
#include <map>

#include "tools/loyaltyctl/commands.h"
#include "tools/loyaltyctl/format.h"

namespace loyalty::ctl {
namespace {

using Stub = v1::ReferralService::Stub;

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

// One side's bonus: "100 points, award done" plus the reversal and any failure detail.
std::string AwardText(const v1::ReferralAward& award) {
  if (award.member_id().empty() && award.points() == 0) return "-";
  std::string out = std::to_string(award.points()) + " points, award " + StepName(award.award());
  if (award.reversal() != v1::STEP_STATE_NONE) out += ", reversal " + StepName(award.reversal());
  if (!award.detail().empty()) out += " (" + award.detail() + ")";
  return out;
}

void PrintReferral(Ctl& ctl, const v1::Referral& r, bool with_key) {
  if (ctl.json()) return ctl.PrintJson(r);
  Fields fields;
  fields.Add("referral", r.referral_id())
      .Add("status", StatusName(r.status()))
      .Add("referrer", r.referrer_id())
      .Add("invitee", r.invitee_id())
      .Add("code", r.code())
      .Add("applied", IsoUtc(r.applied_at_ms()));
  if (!r.reason().empty()) {
    fields.Add("reason", r.reason() + (r.reason_detail().empty() ? "" : ": " + r.reason_detail()));
  }
  if (!r.purchase_id().empty()) {
    fields.Add("purchase", r.purchase_id() + " at " + IsoUtc(r.purchased_at_ms()) +
                               (r.store_id().empty() ? "" : " in store " + r.store_id()));
  }
  if (r.qualified_at_ms() != 0) fields.Add("qualified", IsoUtc(r.qualified_at_ms()));
  fields.Add("referrer bonus", AwardText(r.referrer()))
      .Add("invitee bonus", AwardText(r.invitee()));
  if (!r.refund_id().empty()) {
    fields.Add("reversed", "refund " + r.refund_id() + " at " + IsoUtc(r.reversed_at_ms()));
  }
  if (!r.reviewed_by().empty()) fields.Add("reviewed by", r.reviewed_by());
  if (with_key) fields.Add("idempotency key", ctl.IdempotencyKey());
  fields.Print(std::cout);
}

}  // namespace

void RunReferralCode(Ctl& ctl, const Args& args) {
  v1::GetReferralCodeRequest request;
  request.set_member_id(args.words()[0]);
  v1::ReferralCode code;
  ctl.CallReferral(
      [&](Stub& stub, grpc::ClientContext* c) { return stub.GetReferralCode(c, request, &code); },
      /*mutating=*/false);
  if (ctl.json()) return ctl.PrintJson(code);
  Fields fields;
  fields.Add("member", code.member_id())
      .Add("code", code.code())
      .Add("generated", OrDash(code.generated_code()))
      .Add("vanity", OrDash(code.vanity_code()))
      .Print(std::cout);
}

void RunReferralApply(Ctl& ctl, const Args& args) {
  v1::ApplyReferralRequest request;
  request.set_invitee_id(args.words()[0]);
  request.set_code(args.words()[1]);
  request.set_idempotency_key(ctl.IdempotencyKey());
  v1::Referral referral;
  ctl.CallReferral(
      [&](Stub& stub, grpc::ClientContext* c) { return stub.ApplyReferral(c, request, &referral); },
      /*mutating=*/true);
  PrintReferral(ctl, referral, /*with_key=*/true);
}

void RunReferralStats(Ctl& ctl, const Args& args) {
  v1::GetReferralStatsRequest request;
  request.set_member_id(args.words()[0]);
  v1::ReferralStats stats;
  ctl.CallReferral(
      [&](Stub& stub, grpc::ClientContext* c) { return stub.GetReferralStats(c, request, &stats); },
      /*mutating=*/false);
  if (ctl.json()) return ctl.PrintJson(stats);
  std::string rejected = std::to_string(stats.rejected());
  if (!stats.rejected_by_reason().empty()) {
    // A map has no order; sort for a stable listing.
    std::map<std::string, int64_t> sorted(stats.rejected_by_reason().begin(),
                                          stats.rejected_by_reason().end());
    std::string reasons;
    for (const auto& [reason, count] : sorted) {
      if (!reasons.empty()) reasons += ", ";
      reasons += reason + " " + std::to_string(count);
    }
    rejected += " (" + reasons + ")";
  }
  Fields fields;
  fields.Add("member", stats.member_id())
      .Add("referred by", OrDash(stats.referred_by()))
      .Add("invited", std::to_string(stats.invited()))
      .Add("pending", std::to_string(stats.pending()))
      .Add("held", std::to_string(stats.held()))
      .Add("qualified", std::to_string(stats.qualified()))
      .Add("rewarded", std::to_string(stats.rewarded()))
      .Add("rejected", rejected)
      .Add("reversed", std::to_string(stats.reversed()))
      .Add("expired", std::to_string(stats.expired()))
      .Add("points earned", std::to_string(stats.points_earned()))
      .Print(std::cout);
}

void RunReferralList(Ctl& ctl, const Args& args) {
  v1::ListReferralsRequest request;
  request.set_member_id(args.words()[0]);
  request.set_page_size(static_cast<int32_t>(args.GetInt("limit", 0, 1, 1000)));
  request.set_page_token(args.Get("page-token"));
  v1::ListReferralsResponse response;
  ctl.CallReferral(
      [&](Stub& stub, grpc::ClientContext* c) { return stub.ListReferrals(c, request, &response); },
      /*mutating=*/false);
  if (ctl.json()) return ctl.PrintJson(response);
  if (response.referrals().empty()) {
    std::cout << "no referrals\n";
    return;
  }
  Table table({{"REFERRAL"},
               {"APPLIED (UTC)"},
               {"INVITEE"},
               {"STATUS"},
               {"REFERRER BONUS", Table::kRight},
               {"RETURN WINDOW ENDS (UTC)"},
               {"REASON"}});
  for (const auto& r : response.referrals()) {
    // The bonus waits for the qualifying purchase's return window (from accrual).
    table.AddRow({r.referral_id(), IsoUtc(r.applied_at_ms()), r.invitee_id(),
                  StatusName(r.status()), std::to_string(r.referrer().points()),
                  IsoUtc(r.return_window_ends_at_ms()), OrDash(r.reason())});
  }
  table.Print(std::cout);
  if (!response.next_page_token().empty()) {
    std::cout << "more: loyaltyctl referral list " << request.member_id()
              << " --page-token=" << response.next_page_token() << "\n";
  }
}

}  // namespace loyalty::ctl
