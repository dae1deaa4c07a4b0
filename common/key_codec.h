// Order-preserving key encoding for RocksDB: the byte order of encoded keys is the order of
// the tuples they encode, so prefix scans and range scans follow the domain's order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace loyalty::keys {

// Big-endian, so that numbers sort numerically.
inline void AppendU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// Signed values flip the sign bit so that negatives sort before positives.
inline void AppendI64(std::string& out, int64_t v) {
  AppendU64(out, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63));
}

// Strings are escaped (0x00 -> 0x00 0xff) and terminated by 0x00 0x01, so that a string
// never sorts between the extensions of a shorter one and tuples stay ordered.
inline void AppendString(std::string& out, std::string_view s) {
  for (char c : s) {
    out.push_back(c);
    if (c == '\0') out.push_back('\xff');
  }
  out.push_back('\0');
  out.push_back('\x01');
}

// A signed value alone, as stored for counters and offsets.
inline std::string EncodeI64(int64_t v) {
  std::string out;
  AppendI64(out, v);
  return out;
}

inline uint64_t ReadU64(std::string_view in, size_t pos = 0) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[pos + i]);
  return v;
}

inline int64_t ReadI64(std::string_view in, size_t pos = 0) {
  return static_cast<int64_t>(ReadU64(in, pos) ^ (uint64_t{1} << 63));
}

// Reads a string written by AppendString at pos; advances pos past it. False if malformed.
inline bool ReadString(std::string_view in, size_t& pos, std::string& out) {
  out.clear();
  while (pos < in.size()) {
    char c = in[pos++];
    if (c != '\0') {
      out.push_back(c);
      continue;
    }
    if (pos >= in.size()) return false;
    char next = in[pos++];
    if (next == '\x01') return true;
    if (next != '\xff') return false;
    out.push_back('\0');
  }
  return false;
}

}  // namespace loyalty::keys
