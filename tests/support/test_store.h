// A real store for a test: opened on path with the column families, or the test fails loud.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/store.h"

namespace loyalty::testing {

inline std::unique_ptr<Store> OpenStoreOrThrow(const std::string& path,
                                               const std::vector<std::string>& column_families) {
  auto opened = Store::Open(path, column_families);
  if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
  return std::move(*opened);
}

}  // namespace loyalty::testing
