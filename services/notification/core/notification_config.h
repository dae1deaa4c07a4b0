// Notification's settings, read once from the configuration file.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "services/notification/core/policy.h"

namespace loyalty::notification {

struct NotificationConfig {
  std::set<std::string> disabled_kinds;  // switched off for the whole program
  std::string default_language = "en";
  int max_attempts = 6;
  BackoffOptions backoff;
  BreakerOptions breaker;
  uint64_t seed = 1;  // of the retry jitter
  int64_t link_code_ttl_ms = 15 * 60 * 1000;
  int64_t preference_cache_bytes = int64_t{128} << 20;  // cache.preferences_mb

  // notification.disabled_kinds (comma-separated), notification.default_language,
  // notification.max_attempts, notification.backoff_base_ms, notification.backoff_max_ms,
  // notification.breaker_failures, notification.breaker_open_ms, notification.seed,
  // notification.link_code_ttl_ms.
  // Keys under "notification.", declared by Keys() with this struct's defaults.
  static StatusOr<NotificationConfig> FromConfig(const Config& config);
  static ConfigKeys Keys();
};

}  // namespace loyalty::notification
