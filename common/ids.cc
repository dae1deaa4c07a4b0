#include "common/ids.h"

#include <random>

namespace loyalty {
namespace {

constexpr char kCrockford[] = "0123456789abcdefghjkmnpqrstvwxyz";

void AppendBase32(std::string& out, uint64_t v, int chars) {
  for (int i = chars - 1; i >= 0; --i) out.push_back(kCrockford[(v >> (5 * i)) & 31]);
}

}  // namespace

std::string NewId(const std::string& prefix, int64_t now_ms) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id = prefix + "_";
  AppendBase32(id, static_cast<uint64_t>(now_ms), 9);  // 45 bits: until year 3084
  AppendBase32(id, rng(), 13);                         // 64 random bits (65 encoded)
  return id;
}

uint64_t Fnv1a64(const std::string& data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace loyalty
