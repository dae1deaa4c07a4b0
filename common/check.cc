#include "common/check.h"

#include <cstdlib>

#include "common/log.h"

namespace loyalty {

void InvariantViolated(const char* file, int line, const char* condition,
                       const std::string& detail) {
  LogError("invariant violated: the process stops before writing it",
           {{"condition", condition},
            {"detail", detail},
            {"at", std::string(file) + ":" + std::to_string(line)}});
  std::abort();
}

}  // namespace loyalty
