#include "services/redemption/core/types.h"

#include <algorithm>
#include <cctype>

namespace loyalty::redemption {

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '@';
  });
}

Status CheckId(const std::string& field, const std::string& id) {
  if (id.empty()) return InvalidArgument(field + ": required");
  if (!ValidId(id)) {
    return InvalidArgument(field + ": at most 128 letters, digits or _-.:@");
  }
  return Status::Ok();
}

}  // namespace loyalty::redemption
