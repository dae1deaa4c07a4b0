#include "services/referral/core/codes.h"

#include <algorithm>
#include <cctype>

#include "common/ids.h"

namespace loyalty::referral {

std::string GeneratedCode(const std::string& member_id, int attempt) {
  uint64_t bits = Fnv1a64("referral-code:" + member_id + "#" + std::to_string(attempt));
  // FNV's low bits mix worst; fold the high half in before taking 5 bits at a time.
  bits ^= bits >> 29;
  std::string code;
  for (size_t i = 0; i < kGeneratedCodeLength; ++i) {
    code.push_back(kCodeAlphabet[bits & 31]);
    bits >>= 5;
  }
  return code;
}

StatusOr<std::string> NormalizeCode(const std::string& field, const std::string& input) {
  std::string code;
  for (unsigned char c : input) {
    if (c == ' ' || c == '-') continue;
    if (!std::isalnum(c)) return InvalidArgument(field + ": only letters, digits and '-'");
    code.push_back(static_cast<char>(std::toupper(c)));
  }
  if (code.empty()) return InvalidArgument(field + ": required");
  if (code.size() > 20) return InvalidArgument(field + ": longer than 20 characters");
  return code;
}

StatusOr<std::string> NormalizeVanityCode(const std::string& field, const std::string& input) {
  auto code = NormalizeCode(field, input);
  if (!code.ok()) return code;
  if (code->size() < 4) return InvalidArgument(field + ": at least 4 letters or digits");
  return code;
}

std::string ComparablePhone(const std::string& phone) {
  std::string digits;
  for (char c : phone) {
    if (std::isdigit(static_cast<unsigned char>(c))) digits.push_back(c);
  }
  return digits;
}

std::string ComparableEmail(const std::string& email) {
  std::string e;
  for (char c : email) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      e.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  size_t at = e.rfind('@');
  if (at == std::string::npos) return e;
  std::string local = e.substr(0, at), domain = e.substr(at + 1);
  if (size_t plus = local.find('+'); plus != std::string::npos) local.resize(plus);
  if (domain == "gmail.com" || domain == "googlemail.com") {
    local.erase(std::remove(local.begin(), local.end(), '.'), local.end());
    domain = "gmail.com";
  }
  return local + "@" + domain;
}

}  // namespace loyalty::referral
