// Notification's gRPC handlers and event decoder against the platform's field limits
// (common/field_limits.h): one over-limit case per field family with the boundary accepted,
// and the page-size rule of ListNotifications (which used to clamp 100000 to 500 silently).
#include <grpcpp/server_context.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/field_limits.h"
#include "common/outbox.h"
#include "services/notification/event_decoder.h"
#include "services/notification/grpc_service.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace loyalty::notification {
namespace {

void ExpectRefused(const grpc::Status& status, const std::string& message) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(status.error_message(), message);
}

class RequestLimitsTest : public ::testing::Test {
 protected:
  RequestLimitsTest()
      : store(testing::OpenStoreOrThrow(dir.path(), NotificationColumnFamilies())),
        outbox(*store),
        core(*store, outbox, clock, NotificationConfig{}),
        service(core) {}

  grpc::Status SetPreferences(const v1::Preferences& p, const std::string& key) {
    v1::SetPreferencesRequest request;
    *request.mutable_preferences() = p;
    request.set_idempotency_key(key);
    v1::Preferences response;
    return service.SetPreferences(&context, &request, &response);
  }

  static v1::Preferences Prefs() {
    v1::Preferences p;
    p.set_member_id("m1");
    p.set_language("en");
    p.add_channels("webhook");
    p.set_webhook_url("https://example.com/hook");
    return p;
  }

  testing::TempDir dir;
  ManualClock clock;
  std::unique_ptr<Store> store;
  Outbox outbox;
  NotificationCore core;
  NotificationGrpcService service;
  grpc::ServerContext context;
};

TEST_F(RequestLimitsTest, AddressesAtTheirLimitAreAcceptedAndOneByteMoreIsRefused) {
  v1::Preferences p = Prefs();
  std::string prefix = "https://example.com/";
  p.set_webhook_url(prefix + std::string(2048 - prefix.size(), 'u'));
  EXPECT_TRUE(SetPreferences(p, "k1").ok());
  p.set_webhook_url(prefix + std::string(2049 - prefix.size(), 'u'));
  ExpectRefused(SetPreferences(p, "k2"), "preferences.webhook_url: 2049 bytes, at most 2048");

  p = Prefs();
  p.set_email(std::string(1 << 20, 'e'));
  ExpectRefused(SetPreferences(p, "k3"), "preferences.email: 1048576 bytes, at most 254");
  p = Prefs();
  p.set_time_zone(std::string(65, 'z'));
  ExpectRefused(SetPreferences(p, "k4"), "preferences.time_zone: 65 bytes, at most 64");
}

TEST_F(RequestLimitsTest, RepeatedFieldsOverTheirCountAreRefused) {
  v1::Preferences p = Prefs();
  for (int i = 0; i < 16; ++i) p.add_channels("x");
  ExpectRefused(SetPreferences(p, "k1"), "preferences.channels: 17 values, at most 16");
  p = Prefs();
  for (int i = 0; i < 65; ++i) p.add_opted_out_kinds("digest");
  ExpectRefused(SetPreferences(p, "k2"), "preferences.opted_out_kinds: 65 values, at most 64");
}

TEST_F(RequestLimitsTest, TemplatesAtTheirLimitAreAcceptedAndOneByteMoreIsRefused) {
  v1::SetTemplateRequest request;
  v1::Template& t = *request.mutable_template_();
  t.set_kind("welcome");
  t.set_channel("sms");
  t.set_language("en");
  t.set_body(std::string(8192, 'b'));
  request.set_idempotency_key("t1");
  v1::Template saved;
  EXPECT_TRUE(service.SetTemplate(&context, &request, &saved).ok());
  t.set_body(std::string(8193, 'b'));
  request.set_idempotency_key("t2");
  ExpectRefused(service.SetTemplate(&context, &request, &saved),
                "template.body: 8193 bytes, at most 8192");

  v1::GetTemplateRequest get;
  get.set_kind(std::string(65, 'k'));
  ExpectRefused(service.GetTemplate(&context, &get, &saved), "kind: 65 bytes, at most 64");
}

TEST_F(RequestLimitsTest, ListNotificationsFollowsTheOnePageSizeRule) {
  v1::ListNotificationsRequest request;
  request.set_member_id("m1");
  v1::ListNotificationsResponse page;
  for (int ok : {0, 1, limits::kMaxNotificationPageSize}) {
    request.set_page_size(ok);
    EXPECT_TRUE(service.ListNotifications(&context, &request, &page).ok()) << ok;
  }
  for (int bad : {-1, limits::kMaxNotificationPageSize + 1, 100000}) {
    request.set_page_size(bad);
    grpc::Status status = service.ListNotifications(&context, &request, &page);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_EQ(status.error_message().rfind("page_size: ", 0), 0u) << status.error_message();
  }
}

TEST_F(RequestLimitsTest, AnEventOverALimitIsDeadLetteredWithTheFieldInBothEncodings) {
  v1::LoyaltyEvent event;
  event.set_event_id("m1:1");
  event.set_member_id("m1");
  event.mutable_points_awarded()->set_points(5);
  event.mutable_points_awarded()->set_reason(std::string(limits::kTextBytes, 'r'));
  InputMessage message;
  message.topic = "loyalty.events.v1";
  message.value = event.SerializeAsString();
  EXPECT_TRUE(std::holds_alternative<EventCmd>(DecodeEvent(message)));

  event.mutable_points_awarded()->set_reason(std::string(limits::kTextBytes + 1, 'r'));
  message.value = event.SerializeAsString();
  Command command = DecodeEvent(message);
  ASSERT_TRUE(std::holds_alternative<Undecodable>(command));
  EXPECT_EQ(std::get<Undecodable>(command).kind, "invalid");
  EXPECT_EQ(std::get<Undecodable>(command).reason,
            "points_awarded.reason: 1001 bytes, at most 1000");

  message.value = R"({"eventId":"m1:1","memberId":")" + std::string(129, 'm') + R"("})";
  Command json = DecodeEvent(message);
  ASSERT_TRUE(std::holds_alternative<Undecodable>(json));
  EXPECT_EQ(std::get<Undecodable>(json).reason, "member_id: 129 bytes, at most 128");
}

}  // namespace
}  // namespace loyalty::notification
