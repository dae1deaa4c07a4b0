// accrual's Kafka input as the purchase consumer hands it to the core: the first byte picks
// the topic (purchases, refunds, activities), the rest is the record's value (protobuf, or
// JSON when it starts with '{'). Each input is decoded and applied in a batch of its own on
// a real store, where members m-1 and m-2 are enrolled; their balances must stay >= 0.
#include <cstdint>
#include <vector>

#include "common/clock.h"
#include "common/outbox.h"
#include "services/accrual/core/accrual_core.h"
#include "services/accrual/input_decoder.h"
#include "tests/fuzz/fuzz_env.h"

namespace loyalty::accrual {
namespace {

// The caller of the calls on the core (common/principal.h).
const Principal kTestCaller("spiffe://loyalty/admin/bench");

struct Env {
  Env() : store(fuzz::OpenFuzzStore(AccrualColumnFamilies())), outbox(*store) {
    core = std::make_unique<AccrualCore>(*store, outbox, clock, AccrualConfig{});
    int n = 0;
    for (const char* id : {"m-1", "m-2"}) {
      v1::EnrollMemberRequest request;
      request.set_member_id(id);
      request.set_phone("+38067123456" + std::to_string(++n));
      request.set_idempotency_key(std::string("enroll-") + id);
      auto enrolled = core->EnrollMember(kTestCaller, request);
      if (!enrolled.ok()) fprintf(stderr, "%s\n", enrolled.status().ToString().c_str());
      FUZZ_CHECK(enrolled.ok());
    }
  }
  ManualClock clock;
  std::unique_ptr<Store> store;
  Outbox outbox;
  std::unique_ptr<AccrualCore> core;
  int64_t offset = 0;
};

}  // namespace
}  // namespace loyalty::accrual

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loyalty::accrual;
  static Env env;
  loyalty::fuzz::Input in(data, size);
  static const char* const kTopics[] = {kPurchasesTopic, kRefundsTopic, kActivitiesTopic};
  loyalty::InputMessage message;
  message.topic = kTopics[in.Byte() % 3];
  message.offset = env.offset++;
  message.key = "m-1";
  message.value = in.Rest();
  env.core->ApplyBatch({message}, DecodeCommand);
  env.clock.Advance(60'000);
  for (const char* id : {"m-1", "m-2"}) {
    auto balance = env.core->GetBalance(id);
    FUZZ_CHECK(balance.ok());
    FUZZ_CHECK(balance->balance().available() >= 0);
    FUZZ_CHECK(balance->balance().held() >= 0);
    FUZZ_CHECK(balance->balance().debt() >= 0);
  }
  return 0;
}
