// The Telegram webhook's body (an Update as JSON) through TelegramWebhook::HandleUpdate and
// the balance bot, on a real store where chat 42 is linked to member m-1 (accrual not
// configured, so balance questions are answered as unavailable). A 200 reply is empty or a
// JSON object; anything else is a 400 with no body.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/outbox.h"
#include "services/notification/core/bot.h"
#include "services/notification/core/notification_core.h"
#include "services/notification/telegram_webhook.h"
#include "tests/fuzz/fuzz_env.h"
#include "tests/support/test_caller.h"

namespace loyalty::notification {
namespace {

struct Env {
  Env() : store(fuzz::OpenFuzzStore(NotificationColumnFamilies())), outbox(*store) {
    core = std::make_unique<NotificationCore>(*store, outbox, clock, NotificationConfig{});
    v1::CreateTelegramLinkCodeRequest request;
    request.set_member_id("m-1");
    request.set_idempotency_key("link-m-1");
    auto code = core->CreateTelegramLinkCode(kTestCaller, request);
    if (!code.ok()) fprintf(stderr, "%s\n", code.status().ToString().c_str());
    FUZZ_CHECK(code.ok());
    FUZZ_CHECK(core->LinkTelegramChat(code->code(), "42").ok());
    bot = std::make_unique<BalanceBot>(*core, nullptr);
    webhook = std::make_unique<TelegramWebhook>(*bot, "");
  }
  ManualClock clock;
  std::unique_ptr<Store> store;
  Outbox outbox;
  std::unique_ptr<NotificationCore> core;
  std::unique_ptr<BalanceBot> bot;
  std::unique_ptr<TelegramWebhook> webhook;
};

}  // namespace
}  // namespace loyalty::notification

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loyalty::notification;
  static Env env;
  int status = 0;
  std::string reply =
      env.webhook->HandleUpdate(std::string(reinterpret_cast<const char*>(data), size), &status);
  FUZZ_CHECK(status == 200 || status == 400);
  if (status == 400) FUZZ_CHECK(reply.empty());
  if (!reply.empty()) {
    google::protobuf::Struct parsed;
    FUZZ_CHECK(google::protobuf::util::JsonStringToMessage(reply, &parsed).ok());
  }
  return 0;
}
