// Configuration files: the YAML text of --config=FILE (common/config FromYamlText), then every
// service's configuration read from it, as each main does at start. A bad file must be an
// error Status, never an exception or a crash.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "common/config.h"
#include "services/accrual/core/accrual_config.h"
#include "services/notification/core/notification_config.h"
#include "services/redemption/core/redemption_config.h"
#include "services/referral/core/referral_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loyalty;
  auto config = Config::FromYamlText(std::string(reinterpret_cast<const char*>(data), size));
  if (!config.ok()) return 0;
  (void)accrual::AccrualConfig::FromConfig(*config);
  (void)referral::ReferralConfig::FromConfig(*config);
  (void)redemption::RedemptionConfig::FromConfig(*config);
  (void)notification::NotificationConfig::FromConfig(*config);
  // Config's getters throw std::invalid_argument for a value of the wrong type (the
  // runtime turns it into "bad configuration"); the services' FromConfig return a Status.
  config->Declare({StringKey("kafka.brokers", "", "brokers"), IntKey("kafka.max_batch", 0, "batch"),
                   BoolKey("store.sync", true, "sync")});
  try {
    (void)config->GetString("kafka.brokers");
    (void)config->GetInt("kafka.max_batch");
    (void)config->GetBool("store.sync");
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
