#include "services/accrual/core/contact.h"

#include <algorithm>
#include <cctype>

#include "common/field_limits.h"

namespace loyalty::accrual {

StatusOr<std::string> NormalizePhone(const std::string& raw,
                                     const std::string& default_country_code) {
  std::string compact;
  for (char c : raw) {
    if (c == ' ' || c == '-' || c == '(' || c == ')' || c == '.') continue;
    compact.push_back(c);
  }
  std::string digits;
  if (compact.rfind('+', 0) == 0) {
    digits = compact.substr(1);
  } else if (compact.rfind("00", 0) == 0) {
    digits = compact.substr(2);
  } else if (compact.rfind('0', 0) == 0 && !default_country_code.empty()) {
    digits = default_country_code + compact.substr(1);
  } else {
    return InvalidArgument("phone: '" + Quote(raw) +
                           "' is not an international number (start it with + and the country "
                           "code)");
  }
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) {
    return InvalidArgument("phone: '" + Quote(raw) +
                           "' may contain only digits, spaces, - ( ) and .");
  }
  if (digits.size() < 8 || digits.size() > 15 || digits[0] == '0') {
    return InvalidArgument("phone: '" + Quote(raw) + "' is not a valid E.164 number");
  }
  return "+" + digits;
}

StatusOr<std::string> NormalizeEmail(const std::string& raw) {
  size_t begin = raw.find_first_not_of(" \t\r\n");
  size_t end = raw.find_last_not_of(" \t\r\n");
  if (begin == std::string::npos) return InvalidArgument("email: empty");
  std::string email = raw.substr(begin, end - begin + 1);
  std::transform(email.begin(), email.end(), email.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  size_t at = email.find('@');
  if (at == std::string::npos || at == 0 || email.find('@', at + 1) != std::string::npos ||
      at > 64 || email.size() > 254) {
    return InvalidArgument("email: '" + Quote(raw) + "' is not an e-mail address");
  }
  for (size_t i = 0; i < at; ++i) {
    unsigned char c = email[i];
    if (c <= ' ' || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' ||
        c == '<' || c == '>' || c == '[' || c == ']' || c == '\\' || c >= 0x7f) {
      return InvalidArgument("email: '" + Quote(raw) + "' has a character not allowed before @");
    }
  }
  std::string domain = email.substr(at + 1);
  if (domain.find('.') == std::string::npos || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string::npos) {
    return InvalidArgument("email: '" + Quote(raw) + "' has no valid domain");
  }
  for (size_t i = 0; i < domain.size(); ++i) {
    char c = domain[i];
    bool label_edge =
        i == 0 || i + 1 == domain.size() || domain[i - 1] == '.' || domain[i + 1] == '.';
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.') continue;
    if (c == '-' && !label_edge) continue;
    return InvalidArgument("email: '" + Quote(raw) + "' has no valid domain");
  }
  return email;
}

}  // namespace loyalty::accrual
