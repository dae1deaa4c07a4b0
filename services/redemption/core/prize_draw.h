// Prize draws that anyone can re-run: the winners are a pure function of the seed and the
// sorted, distinct entrants, using SHA-256 and SplitMix64 (both fully specified), never the
// standard library's unspecified distributions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace loyalty::redemption {

std::string Sha256Hex(std::string_view data);

// Sorted, distinct entrants joined by '\n': what entrants_hash is the SHA-256 of.
std::vector<std::string> CanonicalEntrants(std::vector<std::string> entrants);
std::string EntrantsHash(const std::vector<std::string>& canonical_entrants);

// winners <= entrants.size(); entrants canonical. Partial Fisher-Yates with unbiased
// (rejection-sampled) indices from SplitMix64 seeded with SHA-256(seed '\n' entrants_hash).
std::vector<std::string> DrawWinners(const std::string& seed,
                                     const std::vector<std::string>& canonical_entrants,
                                     size_t winners);

}  // namespace loyalty::redemption
