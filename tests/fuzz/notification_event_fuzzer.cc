// notification's input: a record of loyalty.events.v1 (protobuf LoyaltyEvent, or its JSON
// form when it starts with '{'), decoded and applied in a batch of its own on a real store,
// then the digests that came due are flushed and every channel's due notifications taken,
// as the dispatchers take them.
#include <cstdint>

#include "common/clock.h"
#include "common/event_stamp.h"
#include "common/outbox.h"
#include "services/notification/core/notification_core.h"
#include "services/notification/core/templates.h"
#include "services/notification/event_decoder.h"
#include "tests/fuzz/fuzz_env.h"
#include "tests/support/test_caller.h"

namespace loyalty::notification {
namespace {

struct Env {
  Env() : store(fuzz::OpenFuzzStore(NotificationColumnFamilies())), outbox(*store) {
    core = std::make_unique<NotificationCore>(*store, outbox, clock, NotificationConfig{});
    // m-1 takes e-mail, sms and webhook, so that events for it become notifications.
    v1::SetPreferencesRequest request;
    request.set_idempotency_key("prefs-m-1");
    v1::Preferences* prefs = request.mutable_preferences();
    prefs->set_member_id("m-1");
    prefs->set_email("m-1@example.com");
    prefs->set_phone("+380501234567");
    prefs->set_webhook_url("https://example.com/hook");
    prefs->add_channels("email");
    prefs->add_channels("sms");
    prefs->add_channels("webhook");
    FUZZ_CHECK(core->SetPreferences(kTestCaller, request).ok());
  }
  ManualClock clock;
  std::unique_ptr<Store> store;
  Outbox outbox;
  std::unique_ptr<NotificationCore> core;
  int64_t offset = 0;
};

}  // namespace
}  // namespace loyalty::notification

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loyalty::notification;
  static Env env;
  loyalty::InputMessage message;
  message.topic = loyalty::kEventsTopic;
  message.offset = env.offset++;
  message.value.assign(reinterpret_cast<const char*>(data), size);
  env.core->ApplyBatch({message}, DecodeEvent);
  env.clock.Advance(3'600'000);
  env.core->FlushDigests();
  for (const char* channel : kChannels) {
    for (const auto& n : env.core->TakeDue(channel, 100)) {
      env.core->RecordAttempt(n.notification_id(), SendResult{SendResult::Outcome::kOk, "", 1});
    }
  }
  return 0;
}
