// What the fuzz targets share: a real store in a fresh temp dir (WAL not synced, so that a run
// tries thousands of inputs a second; removed at exit), and the fuzz input split into parts.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/store.h"

namespace loyalty::fuzz {

// A store that lives for the whole fuzzing process: the targets build state across inputs
// (an event for a member enrolled by an earlier one), as a service does.
inline std::unique_ptr<Store> OpenFuzzStore(const std::vector<std::string>& column_families) {
  static std::vector<std::string> dirs;
  std::string pattern = (std::filesystem::temp_directory_path() / "loyalty-fuzz-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  if (dirs.empty()) {
    std::atexit([] {
      std::error_code ignored;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ignored);
    });
  }
  dirs.push_back(pattern);
  StoreOptions options;
  options.sync = false;
  auto opened = Store::Open(pattern, column_families, options);
  if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
  return std::move(*opened);
}

// Reads the input as a few fields: Byte() takes one byte (0 when none are left), Field()
// the bytes up to the next '\n' (or the rest), Rest() what is left.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}
  uint8_t Byte() {
    if (rest_.empty()) return 0;
    uint8_t b = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return b;
  }
  std::string Field() {
    size_t end = rest_.find('\n');
    std::string field(rest_.substr(0, end));
    rest_.remove_prefix(end == std::string_view::npos ? rest_.size() : end + 1);
    return field;
  }
  std::string Rest() {
    std::string rest(rest_);
    rest_ = {};
    return rest;
  }

 private:
  std::string_view rest_;
};

// A property the target checks failed: abort, so that libFuzzer saves the input.
#define FUZZ_CHECK(condition)                                                            \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed\n", __FILE__, __LINE__, #condition); \
      abort();                                                                           \
    }                                                                                    \
  } while (0)

}  // namespace loyalty::fuzz
