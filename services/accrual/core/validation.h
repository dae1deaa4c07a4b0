// Input checks shared by accrual's flows: ids, purchase lines, and how bad input is decoded.
#pragma once

#include <string>

#include "common/field_limits.h"
#include "common/status.h"
#include "loyalty/v1/purchases.pb.h"

namespace loyalty::accrual {

inline constexpr size_t kMaxIdLength = limits::kIdBytes;  // common/field_limits.h

// 1-128 letters, digits and _ - . : @
bool ValidId(const std::string& id);
Status ValidateLines(const google::protobuf::RepeatedPtrField<v1::PurchaseLine>& lines);

}  // namespace loyalty::accrual
