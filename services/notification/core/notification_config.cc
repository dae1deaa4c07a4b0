#include "services/notification/core/notification_config.h"

#include <sstream>

#include "common/cache_config.h"
#include "services/notification/core/i18n.h"
#include "services/notification/core/templates.h"

namespace loyalty::notification {
namespace {

std::set<std::string> SplitList(const std::string& s) {
  std::set<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.insert(item);
  }
  return out;
}

}  // namespace

ConfigKeys NotificationConfig::Keys() {
  const NotificationConfig d;
  return {
      StringKey("notification.disabled_kinds", "",
                "comma-separated notification kinds switched off for the whole program"),
      StringKey("notification.default_language", d.default_language,
                "language of members without one"),
      IntKey("notification.max_attempts", d.max_attempts,
             "delivery attempts per notification before it fails"),
      IntKey("notification.backoff_base_ms", d.backoff.base_ms,
             "first retry delay, doubled per attempt with jitter"),
      IntKey("notification.backoff_max_ms", d.backoff.max_ms, "the longest retry delay"),
      IntKey("notification.breaker_failures", d.breaker.failure_threshold,
             "consecutive failures that open a channel's circuit breaker"),
      IntKey("notification.breaker_open_ms", d.breaker.open_ms,
             "how long an open breaker waits before a trial delivery"),
      IntKey("notification.seed", static_cast<int64_t>(d.seed), "seed of the retry jitter"),
      IntKey("notification.link_code_ttl_ms", d.link_code_ttl_ms,
             "lifetime of a Telegram account-link code"),
      CacheKey("cache.preferences_mb", d.preference_cache_bytes >> 20, "members' preferences"),
  };
}

StatusOr<NotificationConfig> NotificationConfig::FromConfig(const Config& in) {
  Config config = in;
  config.Declare(Keys());
  NotificationConfig c;
  c.disabled_kinds = SplitList(config.GetString("notification.disabled_kinds"));
  for (const auto& k : c.disabled_kinds) {
    if (!KnownKind(k))
      return InvalidArgument("notification.disabled_kinds: unknown kind '" + k + "'");
  }
  c.default_language = config.GetString("notification.default_language");
  if (!SupportedLanguage(c.default_language)) {
    return InvalidArgument("notification.default_language: unsupported '" + c.default_language +
                           "'");
  }
  c.max_attempts = static_cast<int>(config.GetInt("notification.max_attempts"));
  if (c.max_attempts < 1) return InvalidArgument("notification.max_attempts: must be >= 1");
  c.backoff.base_ms = config.GetInt("notification.backoff_base_ms");
  c.backoff.max_ms = config.GetInt("notification.backoff_max_ms");
  if (c.backoff.base_ms < 1 || c.backoff.max_ms < c.backoff.base_ms) {
    return InvalidArgument("notification.backoff_base_ms: must be >= 1 and <= backoff_max_ms");
  }
  c.breaker.failure_threshold = static_cast<int>(config.GetInt("notification.breaker_failures"));
  c.breaker.open_ms = config.GetInt("notification.breaker_open_ms");
  c.seed = static_cast<uint64_t>(config.GetInt("notification.seed"));
  c.link_code_ttl_ms = config.GetInt("notification.link_code_ttl_ms");
  auto preference_cache_bytes = CacheBytes(config, "cache.preferences_mb");
  if (!preference_cache_bytes.ok()) return preference_cache_bytes.status();
  c.preference_cache_bytes = *preference_cache_bytes;
  return c;
}

}  // namespace loyalty::notification
