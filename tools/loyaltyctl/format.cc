#include "tools/loyaltyctl/format.h"

#include "services/accrual/core/campaign_effects.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace loyalty::ctl {
namespace {

// Characters, not bytes, so that Cyrillic names and reasons line up.
size_t DisplayWidth(std::string_view text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

}  // namespace

std::string IsoUtc(int64_t unix_ms) {
  if (unix_ms == 0) return "-";
  // Floor division, so that times before 1970 still print their own second.
  int64_t seconds = unix_ms / 1000 - (unix_ms % 1000 < 0 ? 1 : 0);
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_ms) + "ms";
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string Signed(int64_t value) {
  return value > 0 ? "+" + std::to_string(value) : std::to_string(value);
}

std::string Money(int64_t amount_minor, std::string_view currency) {
  // Magnitude as unsigned, so that INT64_MIN does not overflow.
  uint64_t magnitude = amount_minor < 0 ? 0 - static_cast<uint64_t>(amount_minor)
                                        : static_cast<uint64_t>(amount_minor);
  char fraction[4];
  std::snprintf(fraction, sizeof(fraction), "%02u", static_cast<unsigned>(magnitude % 100));
  std::string out =
      (amount_minor < 0 ? "-" : "") + std::to_string(magnitude / 100) + "." + fraction;
  if (!currency.empty()) out += " " + std::string(currency);
  return out;
}

std::string ShortEnumName(std::string_view full_name, std::string_view prefix) {
  if (full_name.substr(0, prefix.size()) == prefix) full_name.remove_prefix(prefix.size());
  std::string out(full_name);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out.empty() ? "?" : out;
}

std::string KindName(v1::LedgerKind kind) {
  return ShortEnumName(v1::LedgerKind_Name(kind), "LEDGER_KIND_");
}

std::string StatusName(v1::MemberStatus status) {
  return ShortEnumName(v1::MemberStatus_Name(status), "MEMBER_STATUS_");
}

std::string StatusName(v1::HoldStatus status) {
  return ShortEnumName(v1::HoldStatus_Name(status), "HOLD_STATUS_");
}

std::string StatusName(v1::ReferralStatus status) {
  return ShortEnumName(v1::ReferralStatus_Name(status), "REFERRAL_STATUS_");
}

std::string StepName(v1::StepState state) {
  return ShortEnumName(v1::StepState_Name(state), "STEP_STATE_");
}

std::string EffectName(v1::CampaignEffect effect) {
  return ShortEnumName(v1::CampaignEffect_Name(effect), "CAMPAIGN_EFFECT_");
}

std::string FactorText(int64_t basis_points) { return accrual::FactorText(basis_points); }

std::string PercentText(int64_t basis_points) { return accrual::PercentText(basis_points); }

std::string CampaignValueText(v1::CampaignEffect effect, int64_t value) {
  const accrual::CampaignEffectSpec* spec = accrual::FindCampaignEffect(effect);
  return spec == nullptr ? std::to_string(value) : spec->describe(value);
}

std::string CampaignState(const v1::Campaign& campaign, int64_t now_ms) {
  if (campaign.ended()) return "ended";
  if (now_ms < campaign.starts_at_ms()) return "scheduled";
  if (campaign.ends_at_ms() != 0 && now_ms >= campaign.ends_at_ms()) return "over";
  return "live";
}

std::string NextTierText(const v1::TierProgress& progress) {
  if (progress.next_tier().empty()) return "- (top tier)";
  std::string needs;
  if (progress.spend_needed_minor() > 0) {
    needs = Money(progress.spend_needed_minor(), "") + " more spend";
  }
  if (progress.purchases_needed() > 0) {
    if (!needs.empty()) needs += " or ";
    needs += Count(progress.purchases_needed(), "more purchase");
  }
  // Nothing left to reach: the member moves up at the next evaluation.
  if (needs.empty()) needs = "qualified, moves up at the next evaluation";
  return progress.next_tier() + ": " + needs;
}

std::string Count(int64_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

std::string JoinOrDash(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out.empty() ? "-" : out;
}

std::string GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "CODE_" + std::to_string(static_cast<int>(code));
  }
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  bool has_header = std::any_of(columns_.begin(), columns_.end(),
                                [](const Column& c) { return !c.header.empty(); });
  std::vector<size_t> widths(columns_.size(), 0);
  auto measure = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(cells[i]));
    }
  };
  std::vector<std::string> headers;
  for (const auto& column : columns_) headers.push_back(column.header);
  if (has_header) measure(headers);
  for (const auto& row : rows_) measure(row);

  auto print = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      std::string pad(widths[i] - DisplayWidth(cells[i]), ' ');
      bool last = i + 1 == cells.size();
      if (columns_[i].align == kRight) {
        line += pad + cells[i];
      } else {
        line += cells[i];
        if (!last) line += pad;
      }
      if (!last) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  if (has_header) print(headers);
  for (const auto& row : rows_) print(row);
}

Fields& Fields::Add(std::string label, std::string value) {
  table_.AddRow({std::move(label), std::move(value)});
  return *this;
}

void Fields::Print(std::ostream& out) const { table_.Print(out); }

}  // namespace loyalty::ctl
