// A fresh directory under $TMPDIR for one test, removed when the test ends.
#pragma once

#include <string>

namespace loyalty::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace loyalty::testing
