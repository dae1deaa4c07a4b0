// Invariant checks that stop the process loudly instead of letting it write a wrong
// balance: a violated invariant means memory no longer matches the rules, and a restart
// recovers from the last durable state. LOYALTY_CHECK is always on (keep it cheap);
// LOYALTY_DCHECK only in builds without NDEBUG (debug and sanitizer presets).
#pragma once

#include <string>

namespace loyalty {

[[noreturn]] void InvariantViolated(const char* file, int line, const char* condition,
                                    const std::string& detail);

}  // namespace loyalty

#define LOYALTY_CHECK(condition, detail)                                                      \
  do {                                                                                        \
    if (!(condition)) ::loyalty::InvariantViolated(__FILE__, __LINE__, #condition, (detail)); \
  } while (false)

#ifdef NDEBUG
#define LOYALTY_DCHECK(condition, detail) \
  do {                                    \
  } while (false)
#else
#define LOYALTY_DCHECK(condition, detail) LOYALTY_CHECK(condition, detail)
#endif
