// The commands that call loyalty.v1.AccrualService.
#include <iostream>
#include <limits>

#include "tools/loyaltyctl/commands.h"
#include "tools/loyaltyctl/format.h"

namespace loyalty::ctl {
namespace {

using Stub = v1::AccrualService::Stub;

// The service refuses more points than this in one call.
constexpr int64_t kMaxPoints = 1'000'000'000'000;

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

void AddMember(Fields& fields, const v1::Member& member) {
  fields.Add("member", member.member_id())
      .Add("status", StatusName(member.status()))
      .Add("phone", OrDash(member.phone()))
      .Add("email", OrDash(member.email()))
      .Add("tier", OrDash(member.tier()))
      .Add("language", OrDash(member.language()))
      .Add("enrolled", IsoUtc(member.enrolled_at_ms()))
      .Add("available", std::to_string(member.balance().available()));
}

void AddBalance(Fields& fields, const v1::Balance& balance) {
  fields.Add("available", std::to_string(balance.available()))
      .Add("pending", std::to_string(balance.pending()))
      .Add("held", std::to_string(balance.held()))
      .Add("debt", std::to_string(balance.debt()))
      .Add("lifetime earned", std::to_string(balance.lifetime_earned()))
      .Add("lifetime spent", std::to_string(balance.lifetime_spent()))
      .Add("lifetime clawed back", std::to_string(balance.lifetime_clawed_back()))
      .Add("lifetime expired", std::to_string(balance.lifetime_expired()));
}

void AddTierProgress(Fields& fields, const v1::TierProgress& progress) {
  fields.Add("next tier", NextTierText(progress))
      .Add("tier window", Money(progress.window_spend_minor(), "") + " spent, " +
                              Count(progress.window_purchases(), "purchase"))
      .Add("next evaluation", IsoUtc(progress.next_evaluation_at_ms()))
      .Add("grace", progress.in_grace()
                        ? "yes (below the tier's threshold, kept until the next evaluation)"
                        : "no")
      .Add("paid until", IsoUtc(progress.paid_until_ms()))
      .Add("benefits", JoinOrDash(progress.benefits()));
}

void AddNextExpiry(Fields& fields, int64_t points, int64_t at_ms) {
  fields.Add("next expiry",
             points > 0 ? std::to_string(points) + " points at " + IsoUtc(at_ms) : "-");
}

// What `member` shows beyond AddMember: the rest of the balance, expiry, tier progress,
// badges and segments.
void AddMemberDetails(Fields& fields, const v1::Member& member) {
  fields.Add("pending", std::to_string(member.balance().pending()))
      .Add("held", std::to_string(member.balance().held()))
      .Add("lifetime expired", std::to_string(member.balance().lifetime_expired()));
  AddNextExpiry(fields, member.next_expiry_points(), member.next_expiry_at_ms());
  AddTierProgress(fields, member.tier_progress());
  if (member.badges().empty()) fields.Add("badges", "-");
  for (const auto& badge : member.badges()) {
    fields.Add("badge", (badge.title().empty() ? badge.id() : badge.title()) + " (" + badge.id() +
                            ", " + IsoUtc(badge.reached_at_ms()) + ")");
  }
  fields.Add("segments", JoinOrDash(member.segments()));
}

// The changes of an entry besides the available balance: "held +100, debt -20".
std::string OtherDeltas(const v1::LedgerEntry& entry) {
  std::string out;
  auto add = [&](const char* name, int64_t delta) {
    if (delta == 0) return;
    if (!out.empty()) out += ", ";
    out += std::string(name) + " " + Signed(delta);
  };
  add("held", entry.held_delta());
  add("debt", entry.debt_delta());
  add("pending", entry.pending_delta());
  return out;
}

void PrintEntry(Ctl& ctl, const v1::LedgerEntry& entry) {
  if (ctl.json()) return ctl.PrintJson(entry);
  Fields fields;
  fields.Add("member", entry.member_id())
      .Add("sequence", std::to_string(entry.sequence()))
      .Add("kind", KindName(entry.kind()))
      .Add("delta", Signed(entry.available_delta()));
  if (std::string other = OtherDeltas(entry); !other.empty()) fields.Add("also", other);
  fields.Add("available", std::to_string(entry.balance_after().available()));
  if (entry.balance_after().debt() != 0) {
    fields.Add("debt", std::to_string(entry.balance_after().debt()));
  }
  fields.Add("reason", entry.reason()).Add("idempotency key", ctl.IdempotencyKey());
  fields.Print(std::cout);
}

void PrintHold(Ctl& ctl, const v1::Hold& hold) {
  if (ctl.json()) return ctl.PrintJson(hold);
  Fields fields;
  fields.Add("hold", hold.hold_id())
      .Add("member", hold.member_id())
      .Add("status", StatusName(hold.status()))
      .Add("points", std::to_string(hold.points()));
  if (hold.status() == v1::HOLD_STATUS_CAPTURED) {
    fields.Add("captured", std::to_string(hold.captured()))
        .Add("released", std::to_string(hold.points() - hold.captured()));
  } else if (hold.status() != v1::HOLD_STATUS_OPEN) {
    fields.Add("released", std::to_string(hold.points()));
  }
  fields.Add("expires", IsoUtc(hold.expires_at_ms()))
      .Add("reference", OrDash(hold.reference()))
      .Add("available", std::to_string(hold.balance().available()))
      .Add("held", std::to_string(hold.balance().held()))
      .Add("idempotency key", ctl.IdempotencyKey());
  fields.Print(std::cout);
}

}  // namespace

void RunEnroll(Ctl& ctl, const Args& args) {
  v1::EnrollMemberRequest request;
  request.set_phone(args.Get("phone"));
  request.set_email(args.Get("email"));
  request.set_member_id(args.Get("member-id"));
  request.set_language(args.Get("language"));
  if (request.phone().empty() && request.email().empty()) {
    throw UsageError("enroll needs --phone or --email");
  }
  request.set_idempotency_key(ctl.IdempotencyKey());
  v1::Member member;
  ctl.Call(
      [&](Stub& stub, grpc::ClientContext* c) { return stub.EnrollMember(c, request, &member); },
      /*mutating=*/true);
  if (ctl.json()) return ctl.PrintJson(member);
  Fields fields;
  AddMember(fields, member);
  fields.Add("idempotency key", ctl.IdempotencyKey()).Print(std::cout);
}

void RunMember(Ctl& ctl, const Args& args) {
  v1::GetMemberRequest request;
  request.set_member_id(args.words()[0]);
  v1::Member member;
  ctl.Call([&](Stub& stub, grpc::ClientContext* c) { return stub.GetMember(c, request, &member); },
           /*mutating=*/false);
  if (ctl.json()) return ctl.PrintJson(member);
  Fields fields;
  AddMember(fields, member);
  AddMemberDetails(fields, member);
  fields.Print(std::cout);
}

void RunBalance(Ctl& ctl, const Args& args) {
  v1::GetBalanceRequest request;
  request.set_member_id(args.words()[0]);
  v1::GetBalanceResponse response;
  ctl.Call(
      [&](Stub& stub, grpc::ClientContext* c) { return stub.GetBalance(c, request, &response); },
      /*mutating=*/false);
  if (ctl.json()) return ctl.PrintJson(response);
  Fields fields;
  fields.Add("member", response.member_id()).Add("tier", OrDash(response.tier()));
  AddBalance(fields, response.balance());
  AddNextExpiry(fields, response.next_expiry_points(), response.next_expiry_at_ms());
  AddTierProgress(fields, response.tier_progress());
  fields.Print(std::cout);
}

void RunHistory(Ctl& ctl, const Args& args) {
  v1::ListLedgerRequest request;
  request.set_member_id(args.words()[0]);
  request.set_page_size(static_cast<int32_t>(args.GetInt("limit", 0, 1, 1000)));
  request.set_page_token(args.Get("page-token"));
  v1::ListLedgerResponse response;
  ctl.Call(
      [&](Stub& stub, grpc::ClientContext* c) { return stub.ListLedger(c, request, &response); },
      /*mutating=*/false);
  if (ctl.json()) return ctl.PrintJson(response);
  if (response.entries().empty()) {
    std::cout << "no ledger entries\n";
    return;
  }
  Table table({{"SEQ", Table::kRight},
               {"TIME (UTC)"},
               {"KIND"},
               {"DELTA", Table::kRight},
               {"AVAILABLE", Table::kRight},
               {"REASON"}});
  for (const auto& entry : response.entries()) {
    std::string reason = entry.reason();
    if (std::string other = OtherDeltas(entry); !other.empty()) reason += " [" + other + "]";
    table.AddRow({std::to_string(entry.sequence()), IsoUtc(entry.occurred_at_ms()),
                  KindName(entry.kind()), Signed(entry.available_delta()),
                  std::to_string(entry.balance_after().available()), reason});
  }
  table.Print(std::cout);
  if (!response.next_page_token().empty()) {
    std::cout << "more: loyaltyctl history " << request.member_id()
              << " --page-token=" << response.next_page_token() << "\n";
  }
}

void RunAward(Ctl& ctl, const Args& args) {
  v1::AwardPointsRequest request;
  request.set_member_id(args.words()[0]);
  request.set_points(args.WordInt(1, "POINTS", 1, kMaxPoints));
  request.set_reason(args.Required("reason"));
  request.set_source(args.Get("source"));
  request.set_idempotency_key(ctl.IdempotencyKey());
  v1::LedgerEntry entry;
  ctl.Call([&](Stub& stub, grpc::ClientContext* c) { return stub.AwardPoints(c, request, &entry); },
           /*mutating=*/true);
  PrintEntry(ctl, entry);
}

void RunAdjust(Ctl& ctl, const Args& args) {
  v1::AdjustPointsRequest request;
  request.set_member_id(args.words()[0]);
  request.set_delta(args.WordInt(1, "DELTA", -kMaxPoints, kMaxPoints));
  if (request.delta() == 0) throw UsageError("DELTA: must not be 0");
  request.set_reason(args.Required("reason"));
  request.set_actor(args.Required("actor"));
  request.set_idempotency_key(ctl.IdempotencyKey());
  v1::LedgerEntry entry;
  ctl.Call(
      [&](Stub& stub, grpc::ClientContext* c) { return stub.AdjustPoints(c, request, &entry); },
      /*mutating=*/true);
  PrintEntry(ctl, entry);
}

void RunHold(Ctl& ctl, const Args& args) {
  v1::HoldPointsRequest request;
  request.set_member_id(args.words()[0]);
  request.set_points(args.WordInt(1, "POINTS", 1, kMaxPoints));
  // 0 asks for the service's default; the service also enforces its maximum.
  request.set_ttl_seconds(args.GetInt("ttl", 0, 0, std::numeric_limits<int32_t>::max()));
  request.set_reference(args.Get("reference"));
  request.set_idempotency_key(ctl.IdempotencyKey());
  v1::Hold hold;
  ctl.Call([&](Stub& stub, grpc::ClientContext* c) { return stub.HoldPoints(c, request, &hold); },
           /*mutating=*/true);
  PrintHold(ctl, hold);
}

void RunCapture(Ctl& ctl, const Args& args) {
  v1::CaptureHoldRequest request;
  request.set_hold_id(args.words()[0]);
  // Without POINTS (0 on the wire) the whole hold is captured.
  if (args.words().size() > 1) request.set_points(args.WordInt(1, "POINTS", 1, kMaxPoints));
  request.set_idempotency_key(ctl.IdempotencyKey());
  v1::Hold hold;
  ctl.Call([&](Stub& stub, grpc::ClientContext* c) { return stub.CaptureHold(c, request, &hold); },
           /*mutating=*/true);
  PrintHold(ctl, hold);
}

void RunVoid(Ctl& ctl, const Args& args) {
  v1::VoidHoldRequest request;
  request.set_hold_id(args.words()[0]);
  request.set_idempotency_key(ctl.IdempotencyKey());
  v1::Hold hold;
  ctl.Call([&](Stub& stub, grpc::ClientContext* c) { return stub.VoidHold(c, request, &hold); },
           /*mutating=*/true);
  PrintHold(ctl, hold);
}

void RunErase(Ctl& ctl, const Args& args) {
  v1::EraseMemberRequest request;
  request.set_member_id(args.words()[0]);
  request.set_idempotency_key(ctl.IdempotencyKey());
  v1::EraseMemberResponse response;
  ctl.Call(
      [&](Stub& stub, grpc::ClientContext* c) { return stub.EraseMember(c, request, &response); },
      /*mutating=*/true);
  if (ctl.json()) return ctl.PrintJson(response);
  Fields fields;
  AddMember(fields, response.member());
  fields.Add("idempotency key", ctl.IdempotencyKey()).Print(std::cout);
}

void RunSegments(Ctl& ctl, const Args& args) {
  v1::SetMemberSegmentsRequest request;
  request.set_member_id(args.words()[0]);
  // "-" (or an empty word) clears the member's segments.
  const std::string& list = args.words()[1];
  if (list != "-") {
    for (auto& segment : ParseList("SEGMENTS", list)) request.add_segments(std::move(segment));
  }
  request.set_idempotency_key(ctl.IdempotencyKey());
  v1::Member member;
  ctl.Call([&](Stub& stub,
               grpc::ClientContext* c) { return stub.SetMemberSegments(c, request, &member); },
           /*mutating=*/true);
  if (ctl.json()) return ctl.PrintJson(member);
  Fields fields;
  fields.Add("member", member.member_id())
      .Add("segments", JoinOrDash(member.segments()))
      .Add("idempotency key", ctl.IdempotencyKey())
      .Print(std::cout);
}

void RunMembership(Ctl& ctl, const Args& args) {
  v1::PurchaseMembershipRequest request;
  request.set_member_id(args.words()[0]);
  request.set_tier(args.words()[1]);
  request.set_days(args.WordInt(2, "DAYS", 1, 3660));
  request.set_payment_reference(args.Get("payment-ref"));
  request.set_idempotency_key(ctl.IdempotencyKey());
  v1::Member member;
  ctl.Call([&](Stub& stub,
               grpc::ClientContext* c) { return stub.PurchaseMembership(c, request, &member); },
           /*mutating=*/true);
  if (ctl.json()) return ctl.PrintJson(member);
  Fields fields;
  fields.Add("member", member.member_id())
      .Add("tier", OrDash(member.tier()))
      .Add("paid until", IsoUtc(member.tier_progress().paid_until_ms()))
      .Add("benefits", JoinOrDash(member.tier_progress().benefits()))
      .Add("idempotency key", ctl.IdempotencyKey())
      .Print(std::cout);
}

}  // namespace loyalty::ctl
