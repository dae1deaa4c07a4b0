// Human output of loyaltyctl: aligned tables, times, signed deltas and enum names. Pure
// functions of their input, covered by the unit tests.
#pragma once

#include <grpcpp/support/status_code_enum.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "loyalty/v1/accrual.pb.h"
#include "loyalty/v1/referral.pb.h"

namespace loyalty::ctl {

// Unix milliseconds as ISO-8601 UTC to the second: "2026-01-01T09:30:00Z"; "-" for 0.
std::string IsoUtc(int64_t unix_ms);

// "+100", "-50", "0".
std::string Signed(int64_t value);

// Minor units as a decimal amount with two fraction digits: 12345, "UAH" -> "123.45 UAH".
std::string Money(int64_t amount_minor, std::string_view currency);

// An enum value name without its type prefix, lower-cased: ("LEDGER_KIND_HOLD_EXPIRED",
// "LEDGER_KIND_") -> "hold_expired".
std::string ShortEnumName(std::string_view full_name, std::string_view prefix);
std::string KindName(v1::LedgerKind kind);
std::string StatusName(v1::MemberStatus status);
std::string StatusName(v1::HoldStatus status);
std::string StatusName(v1::ReferralStatus status);
std::string StepName(v1::StepState state);
std::string EffectName(v1::CampaignEffect effect);  // "multiplier", "fixed_bonus", ...

// Basis points as a factor or a percentage without trailing zeros: (15000) -> "1.5x",
// (250) -> "2.5%".
std::string FactorText(int64_t basis_points);
std::string PercentText(int64_t basis_points);

// A campaign's value in its effect's terms: "2x base points", "+50 points per purchase",
// "5% of matching lines".
std::string CampaignValueText(v1::CampaignEffect effect, int64_t value);

// Where a campaign stands at now_ms: "ended" (by an operator), "scheduled", "live", "over".
std::string CampaignState(const v1::Campaign& campaign, int64_t now_ms);

// The way to the next tier: "Gold: 1234.56 more spend or 3 more purchases"; "- (top tier)".
std::string NextTierText(const v1::TierProgress& progress);

// "1 purchase", "2 purchases": noun is the singular, made plural with "s".
std::string Count(int64_t n, std::string_view noun);

// "a, b, c"; "-" for none.
std::string JoinOrDash(const google::protobuf::RepeatedPtrField<std::string>& items);

// The canonical name of a gRPC status code: NOT_FOUND, DEADLINE_EXCEEDED, ...
std::string GrpcCodeName(grpc::StatusCode code);

// Columns separated by two spaces, padded to the widest cell (counted in UTF-8 characters).
// Right-aligned columns suit numbers. The last column is never padded.
class Table {
 public:
  enum Align { kLeft, kRight };
  struct Column {
    std::string header;  // empty for every column: no header line
    Align align = kLeft;
  };

  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
  void AddRow(std::vector<std::string> cells);
  void Print(std::ostream& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// "label  value" lines with the values aligned, for one object (a member, a hold, ...).
class Fields {
 public:
  Fields& Add(std::string label, std::string value);
  void Print(std::ostream& out) const;

 private:
  Table table_{{{"", Table::kLeft}, {"", Table::kLeft}}};
};

}  // namespace loyalty::ctl
