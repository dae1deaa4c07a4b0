#include "services/redemption/core/prize_draw.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstdint>

namespace loyalty::redemption {
namespace {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t state) : state_(state) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound) without modulo bias.
  uint64_t Below(uint64_t bound) {
    uint64_t threshold = (0 - bound) % bound;
    for (;;) {
      uint64_t r = Next();
      if (r >= threshold) return r % bound;
    }
  }

 private:
  uint64_t state_;
};

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::vector<std::string> CanonicalEntrants(std::vector<std::string> entrants) {
  std::sort(entrants.begin(), entrants.end());
  entrants.erase(std::unique(entrants.begin(), entrants.end()), entrants.end());
  return entrants;
}

std::string EntrantsHash(const std::vector<std::string>& canonical_entrants) {
  std::string joined;
  for (size_t i = 0; i < canonical_entrants.size(); ++i) {
    if (i > 0) joined.push_back('\n');
    joined += canonical_entrants[i];
  }
  return Sha256Hex(joined);
}

std::vector<std::string> DrawWinners(const std::string& seed,
                                     const std::vector<std::string>& canonical_entrants,
                                     size_t winners) {
  std::string state_hex = Sha256Hex(seed + "\n" + EntrantsHash(canonical_entrants));
  uint64_t state = std::stoull(state_hex.substr(0, 16), nullptr, 16);
  SplitMix64 rng(state);
  std::vector<std::string> pool = canonical_entrants;
  winners = std::min(winners, pool.size());
  for (size_t i = 0; i < winners; ++i) {
    size_t j = i + static_cast<size_t>(rng.Below(pool.size() - i));
    std::swap(pool[i], pool[j]);
  }
  pool.resize(winners);
  return pool;
}

}  // namespace loyalty::redemption
