// The member book against a real store: records written once per transaction, followed
// members read from the store (invitees and referrers only), and referral's own event ids.
#include "services/referral/core/member_book.h"

#include <gtest/gtest.h>

#include "tests/unit/referral/module_env.h"

namespace loyalty::referral {
namespace {

TEST(MemberBookTest, OnlyInviteesAndReferrersAreFollowedAfterAReopen) {
  ModuleEnv env;
  Txn txn;
  env.members->GetOrCreate(txn, "invitee").set_referral_id("rf1");
  env.members->GetOrCreate(txn, "referrer").set_referrals_made(1);
  env.members->GetOrCreate(txn, "asked-for-a-code").set_generated_code("ABCDEFGH");
  env.Commit(txn);
  EXPECT_EQ(txn.dirty_members.size(), 3u);
  env.Reopen();
  EXPECT_TRUE(env.members->Followed("invitee"));
  EXPECT_TRUE(env.members->Followed("referrer"));
  EXPECT_FALSE(env.members->Followed("asked-for-a-code"));
  ASSERT_NE(env.members->Find("asked-for-a-code"), nullptr);
  EXPECT_EQ(env.members->Find("asked-for-a-code")->generated_code(), "ABCDEFGH");
  EXPECT_EQ(env.members->Find("nobody"), nullptr);
  EXPECT_EQ(env.members->Find(""), nullptr);
}

TEST(MemberBookTest, EventsCarryTheMembersOwnSequenceUnderReferralsPrefix) {
  ModuleEnv env;
  Txn txn;
  env.members->Publish(txn, "bob", v1::LoyaltyEvent());
  env.members->Publish(txn, "bob", v1::LoyaltyEvent());
  env.Commit(txn);
  env.Reopen();  // the sequence is part of the record
  Txn next;
  env.members->Publish(next, "bob", v1::LoyaltyEvent());
  env.Commit(next);
  auto events = env.Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].event_id(), "referral:bob:3");
  EXPECT_EQ(events[2].source_service(), "referral");
  EXPECT_EQ(events[2].occurred_at_ms(), env.clock.NowMs());
}

}  // namespace
}  // namespace loyalty::referral
