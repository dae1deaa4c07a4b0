// referral's input: a record of loyalty.events.v1 (protobuf LoyaltyEvent), decoded and applied
// in a batch of its own on a real store, then the award steps it made due are run against an
// in-memory accrual (tests/support/fake_accrual.h), as the award worker runs them.
#include <cstdint>

#include "common/clock.h"
#include "common/event_stamp.h"
#include "common/outbox.h"
#include "services/referral/core/referral_core.h"
#include "services/referral/event_decoder.h"
#include "tests/fuzz/fuzz_env.h"
#include "tests/support/fake_accrual.h"

namespace loyalty::referral {
namespace {

struct Env {
  Env() : store(fuzz::OpenFuzzStore(ReferralColumnFamilies())), outbox(*store) {
    core = std::make_unique<ReferralCore>(*store, outbox, clock, accrual, ReferralConfig{});
  }
  ManualClock clock;
  testing::FakeAccrual accrual{clock};
  std::unique_ptr<Store> store;
  Outbox outbox;
  std::unique_ptr<ReferralCore> core;
  int64_t offset = 0;
};

}  // namespace
}  // namespace loyalty::referral

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loyalty::referral;
  static Env env;
  loyalty::InputMessage message;
  message.topic = loyalty::kEventsTopic;
  message.offset = env.offset++;
  message.value.assign(reinterpret_cast<const char*>(data), size);
  env.core->ApplyEvents({message}, DecodeEvent);
  env.core->RunPendingSteps();
  env.clock.Advance(3'600'000);
  return 0;
}
