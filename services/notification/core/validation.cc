#include "services/notification/core/validation.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "common/field_limits.h"
#include "services/notification/core/i18n.h"
#include "services/notification/core/local_zone.h"
#include "services/notification/core/templates.h"
#include "services/notification/core/types.h"

namespace loyalty::notification {

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '@';
  });
}

bool ValidEmail(const std::string& e) {
  auto at = e.find('@');
  if (at == std::string::npos || at == 0 || e.size() > 254) return false;
  auto dot = e.find('.', at);
  if (dot == std::string::npos || dot == at + 1 || dot + 1 >= e.size()) return false;
  return std::none_of(e.begin(), e.end(), [](unsigned char c) {
    return std::isspace(c) || c == '<' || c == '>' || c == ',' || c < 32;
  });
}

bool ValidPhone(const std::string& p) {
  if (p.size() < 8 || p.size() > 16 || p[0] != '+' || p[1] == '0') return false;
  return std::all_of(p.begin() + 1, p.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool ValidUrl(const std::string& u) {
  if (u.size() > 2048) return false;
  bool scheme = u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0;
  return scheme && u.find_first_of(" \r\n\t") == std::string::npos && u.size() > u.find("://") + 3;
}

bool ValidChatId(const std::string& c) {
  if (c.empty() || c.size() > 20) return false;
  size_t start = c[0] == '-' ? 1 : 0;
  return start < c.size() &&
         std::all_of(c.begin() + start, c.end(), [](unsigned char ch) { return std::isdigit(ch); });
}

std::string AddressOf(const v1::Preferences& p, const std::string& channel) {
  if (channel == "email") return p.email();
  if (channel == "sms") return p.phone();
  if (channel == "webhook") return p.webhook_url();
  if (channel == "telegram") return p.telegram_chat_id();
  return "";
}

Status ValidatePreferences(const v1::Preferences& p) {
  if (p.member_id().empty()) return InvalidArgument("preferences.member_id: required");
  if (!ValidId(p.member_id())) return InvalidArgument("preferences.member_id: invalid id");
  if (!p.language().empty() && !SupportedLanguage(p.language())) {
    return InvalidArgument("preferences.language: unsupported '" + Quote(p.language()) +
                           "' (en, uk, ru, pl, hu)");
  }
  if (!p.email().empty() && !ValidEmail(p.email())) {
    return InvalidArgument("preferences.email: not an e-mail address");
  }
  if (!p.phone().empty() && !ValidPhone(p.phone())) {
    return InvalidArgument("preferences.phone: not an E.164 number (+ and 7-15 digits)");
  }
  if (!p.webhook_url().empty() && !ValidUrl(p.webhook_url())) {
    return InvalidArgument("preferences.webhook_url: not an http(s) URL");
  }
  if (!p.telegram_chat_id().empty() && !ValidChatId(p.telegram_chat_id())) {
    return InvalidArgument("preferences.telegram_chat_id: not a Telegram chat id");
  }
  std::set<std::string> seen;
  for (int i = 0; i < p.channels_size(); ++i) {
    const std::string& c = p.channels(i);
    std::string field = "preferences.channels[" + std::to_string(i) + "]";
    if (!KnownChannel(c)) return InvalidArgument(field + ": unknown channel '" + Quote(c) + "'");
    if (!seen.insert(c).second) return InvalidArgument(field + ": '" + Quote(c) + "' listed twice");
    if (AddressOf(p, c).empty()) {
      return InvalidArgument(field + ": '" + Quote(c) + "' has no address" +
                             (c == "telegram" ? " (link the chat through the bot)" : ""));
    }
  }
  for (int i = 0; i < p.opted_out_kinds_size(); ++i) {
    if (!KnownKind(p.opted_out_kinds(i))) {
      return InvalidArgument("preferences.opted_out_kinds[" + std::to_string(i) +
                             "]: unknown kind '" + p.opted_out_kinds(i) + "'");
    }
  }
  const auto& q = p.quiet_hours();
  if (q.start_minute() < 0 || q.start_minute() >= 1440) {
    return InvalidArgument("preferences.quiet_hours.start_minute: must be 0..1439");
  }
  if (q.end_minute() < 0 || q.end_minute() >= 1440) {
    return InvalidArgument("preferences.quiet_hours.end_minute: must be 0..1439");
  }
  if (p.utc_offset_minutes() < -720 || p.utc_offset_minutes() > 840) {
    return InvalidArgument("preferences.utc_offset_minutes: must be -720..840");
  }
  if (!p.time_zone().empty() && !LocalZone::Named(p.time_zone())) {
    return InvalidArgument("preferences.time_zone: '" + Quote(p.time_zone()) +
                           "' is not a time zone of the tz database (e.g. Europe/Kyiv)");
  }
  if (p.daily_cap() < 0 || p.daily_cap() > 1000) {
    return InvalidArgument("preferences.daily_cap: must be 0..1000");
  }
  return Status::Ok();
}

}  // namespace loyalty::notification
