// Channel adapters against what can be checked without a network: the webhook signature
// (a known HMAC-SHA256 vector), the JSON body, the e-mail message, outcome classification,
// and a refused connection.
#include <gtest/gtest.h>

#include "services/notification/channels/channels.h"
#include "services/notification/channels/http_client.h"

namespace loyalty::notification {
namespace {

TEST(WebhookTest, SignatureIsHmacSha256OfTimestampDotBody) {
  // Expected from: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
  EXPECT_EQ(WebhookChannel::Signature("secret", "1700000000", R"({"a":1})"),
            "sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686");
}

TEST(WebhookTest, BodyIsEscapedJson) {
  v1::Notification n;
  n.set_notification_id("m1:1|webhook");
  n.set_body("line \"one\"\nline two");
  std::string body = WebhookChannel::Body(n);
  EXPECT_NE(body.find(R"("text":"line \"one\"\nline two")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("notification_id":"m1:1|webhook")"), std::string::npos);
}

TEST(HttpTest, ClassifiesOutcomes) {
  HttpResponse r;
  r.status = 204;
  EXPECT_EQ(Classify(r).outcome, SendResult::Outcome::kOk);
  for (int s : {408, 429, 500, 502, 503}) {
    r.status = s;
    EXPECT_EQ(Classify(r).outcome, SendResult::Outcome::kTransient) << s;
  }
  for (int s : {301, 400, 401, 403, 404, 410}) {
    r.status = s;
    EXPECT_EQ(Classify(r).outcome, SendResult::Outcome::kPermanent) << s;
  }
}

TEST(HttpTest, RefusedConnectionIsTransient) {
  // Port 1 on loopback: nothing listens there.
  HttpRequest request;
  request.url = "http://127.0.0.1:1/hook";
  request.timeout_ms = 2000;
  SendResult r = Classify(HttpPost(request));
  EXPECT_EQ(r.outcome, SendResult::Outcome::kTransient) << r.detail;
}

TEST(SmtpTest, MessageHasEncodedSubjectAndStableMessageId) {
  ManualClock clock;
  SmtpChannel smtp(clock, {"smtp://127.0.0.1:1", "shop@example.com", "", "", false, 1000});
  v1::Notification n;
  n.set_notification_id("m1:1|email");
  n.set_address("ann@example.com");
  n.set_subject("Привіт");
  n.set_body("Текст");
  std::string m = smtp.Message(n);
  EXPECT_NE(m.find("Subject: =?UTF-8?B?0J/RgNC40LLRltGC?="), std::string::npos) << m;
  EXPECT_NE(m.find("Message-ID: <m1.1.email@loyalty.notification>"), std::string::npos);
  EXPECT_NE(m.find("\r\n\r\n0KLQtdC60YHRgg==\r\n"), std::string::npos) << m;
  SendResult r = smtp.Send(n);
  EXPECT_EQ(r.outcome, SendResult::Outcome::kTransient) << r.detail;
}

}  // namespace
}  // namespace loyalty::notification
