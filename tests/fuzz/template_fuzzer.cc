// Notification templates as an operator sets them (SetTemplate): the first byte picks the
// kind whose variables are allowed, the rest is the template text. What ValidateTemplate
// accepts must render, with every allowed variable set, without a crash.
#include <cstdint>
#include <string>

#include "services/notification/core/templates.h"
#include "tests/fuzz/fuzz_env.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loyalty::notification;
  loyalty::fuzz::Input in(data, size);
  const auto& kinds = AllKinds();
  const std::string& kind = kinds[in.Byte() % kinds.size()];
  std::string text = in.Rest();
  const auto& allowed = AllowedVariables(kind);
  if (!ValidateTemplate("body", text, allowed).ok()) return 0;
  Vars vars;
  bool truthy = true;
  for (const auto& name : allowed) {
    vars[name] = truthy ? "x" + name : "";
    truthy = !truthy;
  }
  (void)Render(text, vars);
  (void)Render(text, {});
  return 0;
}
