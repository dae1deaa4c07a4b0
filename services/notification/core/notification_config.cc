#include "services/notification/core/notification_config.h"

#include <sstream>

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

StatusOr<NotificationConfig> NotificationConfig::FromConfig(const Config& config) {
  NotificationConfig c;
  c.disabled_kinds = SplitList(config.GetString("notification.disabled_kinds", ""));
  for (const auto& k : c.disabled_kinds) {
    if (!KnownKind(k))
      return InvalidArgument("notification.disabled_kinds: unknown kind '" + k + "'");
  }
  c.default_language = config.GetString("notification.default_language", "en");
  if (!SupportedLanguage(c.default_language)) {
    return InvalidArgument("notification.default_language: unsupported '" + c.default_language +
                           "'");
  }
  c.max_attempts = static_cast<int>(config.GetInt("notification.max_attempts", c.max_attempts));
  if (c.max_attempts < 1) return InvalidArgument("notification.max_attempts: must be >= 1");
  c.backoff.base_ms = config.GetInt("notification.backoff_base_ms", c.backoff.base_ms);
  c.backoff.max_ms = config.GetInt("notification.backoff_max_ms", c.backoff.max_ms);
  if (c.backoff.base_ms < 1 || c.backoff.max_ms < c.backoff.base_ms) {
    return InvalidArgument("notification.backoff_base_ms: must be >= 1 and <= backoff_max_ms");
  }
  c.breaker.failure_threshold =
      static_cast<int>(config.GetInt("notification.breaker_failures", c.breaker.failure_threshold));
  c.breaker.open_ms = config.GetInt("notification.breaker_open_ms", c.breaker.open_ms);
  c.seed = static_cast<uint64_t>(config.GetInt("notification.seed", 1));
  c.link_code_ttl_ms = config.GetInt("notification.link_code_ttl_ms", c.link_code_ttl_ms);
  return c;
}

}  // namespace loyalty::notification
