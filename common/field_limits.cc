#include "common/field_limits.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace loyalty {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

struct Entry {
  size_t max_bytes;
  size_t max_count;
};

// By field name. Ids (any name ending in _id or _ids) are kIdBytes without an entry. docs/api.md
// lists the same table.
const std::unordered_map<std::string_view, Entry>& Table() {
  static const auto* table = new std::unordered_map<std::string_view, Entry>{
      // keys and tokens
      {"idempotency_key", {256, 0}},  // as common/idempotent.h
      {"page_token", {512, 0}},
      {"code", {64, 0}},  // voucher, referral and Telegram link codes
      {"seed", {256, 0}},
      // people and contacts
      {"phone", {32, 0}},
      {"email", {254, 0}},  // the longest address SMTP carries (RFC 5321)
      {"language", {35, 0}},
      {"time_zone", {64, 0}},
      {"webhook_url", {2048, 0}},
      {"actor", {limits::kIdBytes, 0}},
      {"created_by", {limits::kIdBytes, 0}},
      {"updated_by", {limits::kIdBytes, 0}},
      // free text
      {"reason", {limits::kTextBytes, 0}},
      {"note", {limits::kTextBytes, 0}},
      {"reference", {256, 0}},  // of a hold: the caller's prefix and its order id
      {"payment_reference", {limits::kIdBytes, 0}},
      {"source", {64, 0}},
      {"name", {200, 0}},
      {"description", {limits::kTextBytes, 0}},
      {"charity", {200, 0}},
      {"subject", {512, 0}},
      {"body", {8192, 0}},
      // codes and names of things
      {"currency", {3, 0}},
      {"tier", {64, 0}},
      {"type", {64, 0}},  // activity type
      {"kind", {64, 0}},
      {"channel", {32, 0}},
      {"sku", {limits::kIdBytes, 0}},
      {"category", {limits::kIdBytes, 0}},
      // repeated
      {"lines", {0, 1000}},  // purchase and refund lines
      {"segments", {limits::kIdBytes, 100}},
      {"categories", {limits::kIdBytes, 1000}},
      {"skus", {limits::kIdBytes, 1000}},
      {"stores", {limits::kIdBytes, 1000}},
      {"partners", {limits::kIdBytes, 1000}},
      {"tiers", {64, 100}},
      {"roles", {64, 10}},      // of an API key (common/auth/api_keys.h)
      {"principal", {512, 0}},  // a certificate's URI SAN or "apikey:<name>"
      {"store_ids", {limits::kIdBytes, 1000}},
      {"entrants", {limits::kIdBytes, limits::kMaxEntrants}},
      {"channels", {32, 16}},
      {"opted_out_kinds", {64, 64}},
      {"voucher_codes", {64, 10000}},  // of an event: one per unit redeemed
      // ids built from other ids: "<member_id>:<sequence>", "<event_id>|<channel>"
      {"event_id", {256, 0}},
      {"notification_id", {320, 0}},
  };
  return *table;
}

// Where one field name means different things: (message, field).
struct Override {
  std::string_view message, field;
  Entry entry;
};
constexpr Override kOverrides[] = {
    {"Visibility", "values", {limits::kIdBytes, 10000}},  // member ids of an exclusive offer
    // The till's order id, which redemption passes on to accrual's hold with a prefix.
    {"StartCheckoutRequest", "reference", {limits::kIdBytes, 0}},
    {"CreateApiKeyRequest", "name", {64, 0}},  // the principal "apikey:<name>"
    {"EnrollMembersRequest", "members", {0, 1000}},
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Status Over(std::string path, size_t size, const char* unit, size_t max) {
  return InvalidArgument(std::move(path) + ": " + std::to_string(size) + " " + unit + ", at most " +
                         std::to_string(max));
}

// The message of an error found inside a field, with the field's path in front.
Status Within(const std::string& prefix, const Status& inner) {
  return InvalidArgument(prefix + "." + inner.message());
}

// What CheckMessage looks at in one message type: its string, enum and message fields and
// every repeated field, each with its limit, worked out once per type (per thread, so that
// the hot path takes no lock) instead of once per message: the name lookups of LimitOf cost
// more than the checks themselves.
struct FieldPlan {
  const FieldDescriptor* field;
  FieldLimit limit;
};
struct MessagePlan {
  std::vector<FieldPlan> fields;
};

const MessagePlan& PlanOf(const Descriptor* type) {
  thread_local std::unordered_map<const Descriptor*, std::unique_ptr<MessagePlan>> plans;
  auto& plan = plans[type];
  if (plan) return *plan;
  plan = std::make_unique<MessagePlan>();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    auto cpp = field->cpp_type();
    bool checked = cpp == FieldDescriptor::CPPTYPE_STRING || cpp == FieldDescriptor::CPPTYPE_ENUM ||
                   cpp == FieldDescriptor::CPPTYPE_MESSAGE || field->is_repeated();
    if (checked) plan->fields.push_back({field, LimitOf(*field)});
  }
  return *plan;
}

Status CheckMessage(const Message& message, LimitCheck check);

// The path of an element in an error: "skus[3]", or "reason" for a singular field.
std::string PathOf(const FieldDescriptor& field, int index) {
  std::string p(field.name());
  if (index >= 0) p += "[" + std::to_string(index) + "]";
  return p;
}

Status CheckElement(const Message& message, const FieldDescriptor& field, int index,
                    const FieldLimit& limit, LimitCheck check) {
  const Reflection& r = *message.GetReflection();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& value =
          index < 0 ? r.GetStringReference(message, &field, &scratch)
                    : r.GetRepeatedStringReference(message, &field, index, &scratch);
      if (value.size() > limit.max_bytes)
        return Over(PathOf(field, index), value.size(), "bytes", limit.max_bytes);
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      if (!check.enums) return Status::Ok();
      int value = index < 0 ? r.GetEnumValue(message, &field)
                            : r.GetRepeatedEnumValue(message, &field, index);
      if (field.enum_type()->FindValueByNumber(value) == nullptr) {
        return InvalidArgument(PathOf(field, index) + ": " + std::to_string(value) + " is not a " +
                               std::string(field.enum_type()->name()));
      }
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& inner =
          index < 0 ? r.GetMessage(message, &field) : r.GetRepeatedMessage(message, &field, index);
      if (Status s = CheckMessage(inner, check); !s.ok()) return Within(PathOf(field, index), s);
      return Status::Ok();
    }
    default:
      return Status::Ok();
  }
}

Status CheckMessage(const Message& message, LimitCheck check) {
  const Reflection& r = *message.GetReflection();
  for (const FieldPlan& plan : PlanOf(message.GetDescriptor()).fields) {
    const FieldDescriptor& field = *plan.field;
    if (!field.is_repeated()) {
      // An unset message field holds nothing to check (and its default instance is empty).
      if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !r.HasField(message, &field))
        continue;
      if (Status s = CheckElement(message, field, -1, plan.limit, check); !s.ok()) return s;
      continue;
    }
    size_t count = static_cast<size_t>(r.FieldSize(message, &field));
    if (count > plan.limit.max_count) {
      return Over(std::string(field.name()), count, "values", plan.limit.max_count);
    }
    if (field.cpp_type() != FieldDescriptor::CPPTYPE_STRING &&
        field.cpp_type() != FieldDescriptor::CPPTYPE_ENUM &&
        field.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE)
      continue;  // repeated numbers: only their count is limited
    for (int i = 0; i < static_cast<int>(count); ++i) {
      if (Status s = CheckElement(message, field, i, plan.limit, check); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

}  // namespace

FieldLimit LimitOf(const FieldDescriptor& field) {
  const Entry* entry = nullptr;
  for (const Override& o : kOverrides) {
    if (o.field == field.name() && o.message == field.containing_type()->name()) entry = &o.entry;
  }
  if (entry == nullptr) {
    auto it = Table().find(field.name());
    if (it != Table().end()) entry = &it->second;
  }
  FieldLimit limit;
  if (entry != nullptr) {
    limit.named = true;
    if (entry->max_bytes != 0) limit.max_bytes = entry->max_bytes;
    if (entry->max_count != 0) limit.max_count = entry->max_count;
  } else if (EndsWith(field.name(), "_id") || EndsWith(field.name(), "_ids")) {
    limit.named = true;
    limit.max_bytes = limits::kIdBytes;
  }
  return limit;
}

Status CheckFieldLimits(const Message& message, LimitCheck check) {
  return CheckMessage(message, check);
}

std::string Quote(std::string_view value) {
  if (value.size() <= limits::kQuotedPrefixBytes) return std::string(value);
  size_t cut = limits::kQuotedPrefixBytes;
  // Back up over UTF-8 continuation bytes so that the prefix is whole characters.
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return std::string(value.substr(0, cut)) + "…(" + std::to_string(value.size()) + " bytes)";
}

StatusOr<int> PageSize(int32_t requested, int max_size) {
  if (requested == 0) return limits::kDefaultPageSize;
  if (requested < 0 || requested > max_size) {
    return InvalidArgument("page_size: " + std::to_string(requested) + " is not in 0.." +
                           std::to_string(max_size) +
                           " (0: " + std::to_string(limits::kDefaultPageSize) + ")");
  }
  return static_cast<int>(requested);
}

}  // namespace loyalty
