#include "services/notification/core/i18n.h"

#include <cstdio>

#include "common/civil_date.h"

namespace loyalty::notification {
namespace {

struct Forms {
  const char* one;
  const char* few;
  const char* many;
  const char* other;
};

const char* Pick(const Forms& forms, Plural p) {
  switch (p) {
    case Plural::kOne:
      return forms.one;
    case Plural::kFew:
      return forms.few;
    case Plural::kMany:
      return forms.many;
    case Plural::kOther:
      return forms.other;
  }
  return forms.other;
}

}  // namespace

bool SupportedLanguage(const std::string& language) {
  for (const char* l : kLanguages) {
    if (language == l) return true;
  }
  return false;
}

Plural PluralCategory(const std::string& language, int64_t n) {
  uint64_t v = n < 0 ? static_cast<uint64_t>(-(n + 1)) + 1 : static_cast<uint64_t>(n);
  uint64_t mod10 = v % 10, mod100 = v % 100;
  bool few = mod10 >= 2 && mod10 <= 4 && !(mod100 >= 12 && mod100 <= 14);
  if (language == "uk" || language == "ru") {
    if (mod10 == 1 && mod100 != 11) return Plural::kOne;
    return few ? Plural::kFew : Plural::kMany;
  }
  if (language == "pl") {
    if (v == 1) return Plural::kOne;
    return few ? Plural::kFew : Plural::kMany;
  }
  return v == 1 ? Plural::kOne : Plural::kOther;  // en, hu
}

std::string PointsWord(const std::string& language, int64_t n) {
  static const Forms kEn{"point", "points", "points", "points"};
  static const Forms kUk{"бал", "бали", "балів", "балів"};
  static const Forms kRu{"балл", "балла", "баллов", "баллов"};
  static const Forms kPl{"punkt", "punkty", "punktów", "punktów"};
  static const Forms kHu{"pont", "pont", "pont", "pont"};
  Plural p = PluralCategory(language, n);
  if (language == "uk") return Pick(kUk, p);
  if (language == "ru") return Pick(kRu, p);
  if (language == "pl") return Pick(kPl, p);
  if (language == "hu") return Pick(kHu, p);
  return Pick(kEn, p);
}

std::string NotificationsWord(const std::string& language, int64_t n) {
  static const Forms kEn{"notification", "notifications", "notifications", "notifications"};
  static const Forms kUk{"сповіщення", "сповіщення", "сповіщень", "сповіщень"};
  static const Forms kRu{"уведомление", "уведомления", "уведомлений", "уведомлений"};
  static const Forms kPl{"powiadomienie", "powiadomienia", "powiadomień", "powiadomień"};
  static const Forms kHu{"értesítés", "értesítés", "értesítés", "értesítés"};
  Plural p = PluralCategory(language, n);
  if (language == "uk") return Pick(kUk, p);
  if (language == "ru") return Pick(kRu, p);
  if (language == "pl") return Pick(kPl, p);
  if (language == "hu") return Pick(kHu, p);
  return Pick(kEn, p);
}

std::string FormatDate(int64_t unix_ms, int32_t utc_offset_minutes) {
  int64_t local_ms = unix_ms + int64_t{utc_offset_minutes} * 60'000;
  int64_t days = local_ms >= 0 ? local_ms / 86'400'000 : (local_ms - 86'399'999) / 86'400'000;
  const auto [y, m, d] = CivilFromDays(days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

}  // namespace loyalty::notification
