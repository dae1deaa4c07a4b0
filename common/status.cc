#include "common/status.h"

namespace loyalty {

std::string Status::ToString() const {
  if (ok()) return "OK";
  return "code " + std::to_string(static_cast<int>(code_)) + ": " + message_;
}

}  // namespace loyalty
