// Language rules the templates cannot express: plural categories (CLDR rules for integers)
// and the plural forms of the words the templates need, in the five shipped languages.
// Templates pick a form through variables such as {{points_word}}, chosen here.
#pragma once

#include <cstdint>
#include <string>

namespace loyalty::notification {

inline constexpr const char* kLanguages[] = {"en", "uk", "ru", "pl", "hu"};

bool SupportedLanguage(const std::string& language);

enum class Plural { kOne, kFew, kMany, kOther };

// CLDR cardinal category of an integer count (the sign is ignored):
//   en: one (1), other;  hu: one (1), other;
//   uk, ru: one (…1 but not …11), few (…2-4 but not …12-14), many;
//   pl: one (1 only), few (…2-4 but not …12-14), many.
Plural PluralCategory(const std::string& language, int64_t n);

// The word for "points" that goes with n in language: 1 point / 2 points; 1 бал / 2 бали /
// 5 балів; 1 балл / 2 балла / 5 баллов; 1 punkt / 2 punkty / 5 punktów; 5 pont (Hungarian
// keeps the singular after a numeral).
std::string PointsWord(const std::string& language, int64_t n);
// The word for "notifications" with n, for the digest.
std::string NotificationsWord(const std::string& language, int64_t n);

// yyyy-mm-dd of a Unix time in ms shifted by a UTC offset in minutes.
std::string FormatDate(int64_t unix_ms, int32_t utc_offset_minutes);

}  // namespace loyalty::notification
