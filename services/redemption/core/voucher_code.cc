#include "services/redemption/core/voucher_code.h"

#include <cctype>

namespace loyalty::redemption {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr int kRandomChars = 15;
constexpr int kGroup = 4;

int ValueOf(char c) {
  switch (c) {
    case 'O':
      return 0;
    case 'I':
    case 'L':
      return 1;
    default:
      break;
  }
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

// Luhn mod N over the digits' values: catches all single substitutions and adjacent swaps.
int CheckValue(const std::string& digits) {
  int factor = 2, sum = 0;
  for (int i = static_cast<int>(digits.size()) - 1; i >= 0; --i) {
    int addend = factor * ValueOf(digits[i]);
    factor = factor == 2 ? 1 : 2;
    sum += addend / 32 + addend % 32;
  }
  return (32 - sum % 32) % 32;
}

std::string Grouped(const std::string& chars) {
  std::string out;
  for (size_t i = 0; i < chars.size(); ++i) {
    if (i > 0 && i % kGroup == 0) out.push_back('-');
    out.push_back(chars[i]);
  }
  return out;
}

}  // namespace

std::string NewVoucherCode(const std::function<uint64_t()>& random64) {
  // 75 random bits: all 64 of low, then 11 of high.
  uint64_t low = random64(), high = random64();
  std::string chars;
  for (int i = 0; i < kRandomChars; ++i) {
    int bit = 5 * i;
    uint64_t v;
    if (bit + 5 <= 64) {
      v = low >> bit;
    } else if (bit < 64) {
      v = (low >> bit) | (high << (64 - bit));  // straddles the two words
    } else {
      v = high >> (bit - 64);
    }
    chars.push_back(kAlphabet[v & 31]);
  }
  chars.push_back(kAlphabet[CheckValue(chars)]);
  return Grouped(chars);
}

StatusOr<std::string> NormalizeVoucherCode(const std::string& typed) {
  std::string chars;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    int v = ValueOf(u);
    if (v < 0) return InvalidArgument("code: '" + std::string(1, c) + "' is not a code character");
    chars.push_back(kAlphabet[v]);
  }
  if (chars.empty()) return InvalidArgument("code: required");
  if (chars.size() != kRandomChars + 1) {
    return InvalidArgument("code: must have " + std::to_string(kRandomChars + 1) + " characters");
  }
  if (kAlphabet[CheckValue(chars.substr(0, kRandomChars))] != chars.back()) {
    return InvalidArgument("code: check character does not match (mistyped?)");
  }
  return Grouped(chars);
}

}  // namespace loyalty::redemption
