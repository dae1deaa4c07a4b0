// The pure parts of what goes out: composing a message per channel, what follows an
// attempt, digest variables, and the forward-only status of a notification.
#include "services/notification/core/outbound.h"

#include <gtest/gtest.h>

#include "services/notification/core/delivery_log.h"
#include "services/notification/core/digest_flow.h"
#include "services/notification/core/dispatch_queue.h"

namespace loyalty::notification {
namespace {

TEST(ComposeTest, OneNotificationPerChannelWithAnAddress) {
  v1::Preferences p;
  p.set_member_id("m1");
  p.set_email("m1@example.com");
  p.add_channels("email");
  p.add_channels("sms");  // no phone: skipped
  TemplateSet templates;
  Message m{"points_earned", "e1", {{"points", "5"}, {"member_id", "m1"}}, false, TimeMs(2000)};
  auto out = Compose(m, p, "en", templates, TimeMs(1000));
  ASSERT_EQ(out.size(), 1u);
  const v1::Notification& n = out[0];
  EXPECT_EQ(n.notification_id(), "e1|email");
  EXPECT_EQ(n.address(), "m1@example.com");
  EXPECT_EQ(n.status(), "queued");
  EXPECT_EQ(n.created_at_ms(), 1000);
  EXPECT_EQ(n.next_attempt_at_ms(), 2000);
  EXPECT_FALSE(n.subject().empty()) << "e-mail has a subject";
  EXPECT_FALSE(n.body().empty());
}

TEST(ComposeTest, SmsHasNoSubject) {
  v1::Preferences p;
  p.set_member_id("m1");
  p.set_phone("+380501234567");
  p.add_channels("sms");
  TemplateSet templates;
  auto out = Compose(Message{"welcome", "e2", {}, false, TimeMs(0)}, p, "uk", templates, TimeMs(0));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].subject(), "");
  EXPECT_EQ(out[0].language(), "uk");
}

TEST(DecideNextTest, OkDeliversPermanentKillsTransientRetriesUntilTheLast) {
  using O = SendResult::Outcome;
  EXPECT_EQ(DecideNext(O::kOk, 1, 3), NextStep::kDelivered);
  EXPECT_EQ(DecideNext(O::kPermanent, 1, 3), NextStep::kDead);
  EXPECT_EQ(DecideNext(O::kTransient, 2, 3), NextStep::kRetry);
  EXPECT_EQ(DecideNext(O::kTransient, 3, 3), NextStep::kDead);
}

TEST(DigestVarsTest, CountsAndBulletsTheLines) {
  Digest d;
  d.set_member_id("m1");
  d.set_local_day(20454);
  d.add_items()->set_line("one");
  d.add_items()->set_line("two");
  Vars vars = DigestVars(d, "en");
  EXPECT_EQ(vars["count"], "2");
  EXPECT_EQ(vars["items"], "• one\n• two");
  EXPECT_EQ(DigestEventId(d), "digest:m1:20454");
}

TEST(StatusTest, MovesFromQueuedToAFinalStatus) {
  v1::Notification n;
  n.set_status("queued");
  AdvanceStatus(n, kStatusDelivered);
  EXPECT_EQ(n.status(), "delivered");
}

TEST(StatusDeathTest, AFinalStatusNeverChanges) {
  v1::Notification n;
  n.set_status("delivered");
  EXPECT_DEATH(AdvanceStatus(n, kStatusDead), "invariant violated");
  n.set_status("queued");
  EXPECT_DEATH(AdvanceStatus(n, kStatusQueued), "invariant violated");
}

}  // namespace
}  // namespace loyalty::notification
