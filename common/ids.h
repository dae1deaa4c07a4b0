// Identifiers that are unique without coordination: a millisecond time prefix (so ids sort
// roughly by creation) and 64 random bits, in lower-case Crockford base32.
#pragma once

#include <cstdint>
#include <string>

namespace loyalty {

// e.g. NewId("h") -> "h_01jd5x7k3m0q9x2c4v6b8n1r3t"
std::string NewId(const std::string& prefix, int64_t now_ms);

// 64-bit FNV-1a, stable across runs and machines (used for fingerprints, not security).
uint64_t Fnv1a64(const std::string& data);

}  // namespace loyalty
