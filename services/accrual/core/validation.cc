#include "services/accrual/core/validation.h"

#include <algorithm>
#include <cctype>

namespace loyalty::accrual {

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '@';
  });
}

Status ValidateLines(const google::protobuf::RepeatedPtrField<v1::PurchaseLine>& lines) {
  for (int i = 0; i < lines.size(); ++i) {
    if (lines[i].quantity() < 0) {
      return InvalidArgument("lines[" + std::to_string(i) + "].quantity: must not be negative");
    }
    if (lines[i].unit_price_minor() < 0) {
      return InvalidArgument("lines[" + std::to_string(i) +
                             "].unit_price_minor: must not be negative");
    }
  }
  return Status::Ok();
}

}  // namespace loyalty::accrual
