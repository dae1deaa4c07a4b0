// The delivery log and the dispatch queue on a real store: notifications recorded, taken when
// due, attempted, retried with backoff, delivered or dead, and the queue reloaded on start.
#include <gtest/gtest.h>

#include "services/notification/core/outbound.h"
#include "tests/unit/notification/module_env.h"

namespace loyalty::notification {
namespace {

NotificationConfig Config() {
  NotificationConfig c;
  c.max_attempts = 2;
  c.backoff = {1000, 60000};
  c.breaker = {5, 30000};
  return c;
}

// Queues one e-mail for event_id, as a flow does, and makes it durable and visible.
v1::Notification Queue(ModuleEnv& env, const std::string& event_id, TimeMs due) {
  Txn txn;
  v1::Preferences p = env.Prefs("m1");
  p.clear_channels();
  p.add_channels("email");
  QueueMessage(*env.modules, txn, p, Message{"welcome", event_id, {}, false, due}, nullptr);
  env.Commit(txn);
  for (auto& n : txn.created) {
    env.queue->Index(n);
    env.log->Publish(n);
  }
  return txn.created.at(0);
}

TEST(DispatchQueueTest, TakesWhatIsDueOnceAndRetriesThenDies) {
  ModuleEnv env(Config());
  v1::Notification n = Queue(env, "e1", env.Now() + Seconds(10));
  EXPECT_TRUE(env.queue->TakeDue("email", 8, env.Now()).empty()) << "not due yet";
  env.clock.Advance(10'000);
  ASSERT_EQ(env.queue->TakeDue("email", 8, env.Now()).size(), 1u);
  EXPECT_TRUE(env.queue->TakeDue("email", 8, env.Now()).empty()) << "in flight";
  Txn txn;
  AttemptFacts first = env.queue->Record(txn, n.notification_id(),
                                         {SendResult::Outcome::kTransient, "503", 3}, env.Now());
  env.Commit(txn);
  EXPECT_EQ(first.outcome, "retry");
  EXPECT_EQ(env.log->pending_count(), 1);
  const v1::Notification* pending = env.log->FindPending(n.notification_id());
  ASSERT_NE(pending, nullptr);
  EXPECT_GE(pending->next_attempt_at_ms(), env.clock.NowMs() + 500) << "half the base at least";
  env.clock.Advance(2'000);
  ASSERT_EQ(env.queue->TakeDue("email", 8, env.Now()).size(), 1u);
  Txn last;
  AttemptFacts second = env.queue->Record(last, n.notification_id(),
                                          {SendResult::Outcome::kTransient, "503", 3}, env.Now());
  env.Commit(last);
  EXPECT_EQ(second.outcome, "dead");
  EXPECT_EQ(env.log->pending_count(), 0);
  int dead = 0;
  env.store->Scan(cf::kDeadLetters, "", "", [&](std::string_view, std::string_view) {
    ++dead;
    return true;
  });
  EXPECT_EQ(dead, 1);
  v1::Notification stored;
  ASSERT_TRUE(env.log->Load(n.notification_id(), &stored));
  EXPECT_EQ(stored.status(), "dead");
  EXPECT_EQ(stored.attempts_size(), 2);
}

TEST(DispatchQueueTest, TheQueueIsReloadedOnStartAndDeliveredLeavesIt) {
  ModuleEnv env(Config());
  v1::Notification n = Queue(env, "e1", env.Now());
  env.Reopen();
  EXPECT_EQ(env.log->pending_count(), 1);
  ASSERT_EQ(env.queue->TakeDue("email", 8, env.Now()).size(), 1u);
  Txn txn;
  AttemptFacts facts =
      env.queue->Record(txn, n.notification_id(), {SendResult::Outcome::kOk, "250", 3}, env.Now());
  env.Commit(txn);
  EXPECT_EQ(facts.outcome, "delivered");
  env.Reopen();
  EXPECT_EQ(env.log->pending_count(), 0);
  EXPECT_TRUE(env.queue->TakeDue("email", 8, env.Now()).empty());
  Txn unknown;
  EXPECT_FALSE(env.queue->Record(unknown, "nope", {}, env.Now()).found);
}

TEST(DeliveryLogTest, PagesAMembersNotificationsNewestFirst) {
  ModuleEnv env(Config());
  for (int i = 0; i < 3; ++i) {
    Queue(env, "e" + std::to_string(i), env.Now());
    env.clock.Advance(1000);
  }
  v1::ListNotificationsRequest r;
  r.set_member_id("m1");
  r.set_page_size(2);
  auto page = env.log->ReadPage(r);
  ASSERT_TRUE(page.ok());
  v1::ListNotificationsResponse first = env.log->Resolve(*page);
  ASSERT_EQ(first.notifications_size(), 2);
  EXPECT_EQ(first.notifications(0).event_id(), "e2");
  r.set_page_token(first.next_page_token());
  v1::ListNotificationsResponse rest = env.log->Resolve(*env.log->ReadPage(r));
  ASSERT_EQ(rest.notifications_size(), 1);
  EXPECT_EQ(rest.notifications(0).event_id(), "e0");
  EXPECT_EQ(rest.next_page_token(), "");
  r.set_page_token("zz");
  EXPECT_EQ(env.log->ReadPage(r).status().message(), "page_token: malformed");
}

TEST(DeliveryLogDeathTest, AnIdIsCreatedOnceInAWrite) {
  ModuleEnv env(Config());
  Txn txn;
  v1::Notification n;
  n.set_notification_id("e1|email");
  n.set_status("queued");
  env.log->Add(txn, n);
  EXPECT_DEATH(env.log->Add(txn, n), "invariant violated");
}

}  // namespace
}  // namespace loyalty::notification
