// The event intake and the digest flow on a real store, without the facade; and the
// adapter's decoder, which turns each record into a typed command.
#include "services/notification/core/event_intake.h"

#include <gtest/gtest.h>

#include "services/notification/core/digest_flow.h"
#include "services/notification/event_decoder.h"
#include "tests/unit/notification/module_env.h"

namespace loyalty::notification {
namespace {

v1::LoyaltyEvent Earned(const std::string& member, int seq) {
  v1::LoyaltyEvent e;
  e.set_member_id(member);
  e.set_event_id(member + ":" + std::to_string(seq));
  e.mutable_points_earned()->set_points(5);
  e.mutable_points_earned()->mutable_breakdown()->set_credited(5);
  e.mutable_points_earned()->mutable_balance()->set_available(5);
  return e;
}

InputMessage Source() {
  InputMessage m;
  m.topic = kEventsTopic;
  return m;
}

TEST(EventDecoderTest, ProtobufJsonAndGarbage) {
  InputMessage m = Source();
  m.value = Earned("m1", 1).SerializeAsString();
  ASSERT_TRUE(std::holds_alternative<EventCmd>(DecodeEvent(m)));
  EXPECT_EQ(std::get<EventCmd>(DecodeEvent(m)).event.event_id(), "m1:1");
  m.value = R"({"eventId": "e9", "memberId": "m2", "memberErased": {}})";
  ASSERT_TRUE(std::holds_alternative<EventCmd>(DecodeEvent(m)));
  EXPECT_EQ(std::get<EventCmd>(DecodeEvent(m)).event.member_id(), "m2");
  m.value = "{not json";
  auto bad = std::get<Undecodable>(DecodeEvent(m));
  EXPECT_EQ(bad.kind, "undecodable");
  EXPECT_EQ(bad.reason.rfind("not valid JSON for loyalty.v1.LoyaltyEvent", 0), 0u);
  m.value = "\xff\xff not a proto";
  EXPECT_EQ(std::get<Undecodable>(DecodeEvent(m)).reason, "not a protobuf loyalty.v1.LoyaltyEvent");
  Input input = DecodeInput(m);
  EXPECT_TRUE(std::holds_alternative<Undecodable>(input.command));
  EXPECT_EQ(input.source.value, m.value);
}

TEST(EventIntakeTest, RefusesUndecodableAndInvalidAndDedupesWithinTheBatch) {
  ModuleEnv env;
  EventIntake intake(*env.modules);
  Txn txn;
  BatchResult result;
  intake.Apply(txn, Source(), Undecodable{"undecodable", "bytes"}, {}, result);
  v1::LoyaltyEvent no_id = Earned("m1", 1);
  no_id.clear_event_id();
  intake.Apply(txn, Source(), EventCmd{no_id}, {}, result);
  intake.Apply(txn, Source(), EventCmd{Earned("m1", 1)}, {}, result);
  intake.Apply(txn, Source(), EventCmd{Earned("m1", 1)}, {}, result);
  EXPECT_EQ(result.dead_lettered, 2);
  EXPECT_EQ((result.dead_letters[{kEventsTopic, "invalid"}]), 1);
  EXPECT_EQ(result.duplicates, 1);
  EXPECT_EQ(result.skipped, 1) << "m1 has no preferences";
  EXPECT_EQ(txn.published(), 2u);
  env.Commit(txn);
  EXPECT_FALSE(intake.MayWantOffer(Earned("m1", 1))) << "not expiring soon";
  v1::LoyaltyEvent expiring;
  expiring.set_member_id("m1");
  expiring.set_event_id("m1:1");
  expiring.mutable_points_expiring_soon()->set_points(5);
  EXPECT_FALSE(intake.MayWantOffer(expiring)) << "a replay";
  expiring.set_event_id("m1:9");
  EXPECT_TRUE(intake.MayWantOffer(expiring));
  Txn replay;
  BatchResult again;
  intake.Apply(replay, Source(), EventCmd{Earned("m1", 1)}, {}, again);
  EXPECT_EQ(again.duplicates, 1) << "seen in an earlier write";
}

TEST(EventIntakeTest, QueuesPerChannelAndDigestsOverTheCap) {
  ModuleEnv env;
  EventIntake intake(*env.modules);
  Txn txn;
  v1::Preferences p = env.Prefs("m1");
  p.set_daily_cap(1);
  ASSERT_TRUE(env.prefs->Set(txn, p, env.Now()).ok());
  BatchResult result;
  intake.Apply(txn, Source(), EventCmd{Earned("m1", 1)}, {}, result);
  intake.Apply(txn, Source(), EventCmd{Earned("m1", 2)}, {}, result);
  EXPECT_EQ((result.queued[{"points_earned", "email"}]), 1);
  EXPECT_EQ((result.queued[{"points_earned", "sms"}]), 1);
  EXPECT_EQ(result.digested, 1);
  EXPECT_EQ(txn.created.size(), 2u);
  env.Commit(txn);
  DigestFlow digests(*env.modules);
  Txn early;
  EXPECT_EQ(digests.Flush(early, env.Now()), 0);
  env.clock.Advance(12 * kHourMs);  // the next local day (UTC) starts
  Txn flush;
  EXPECT_EQ(digests.Flush(flush, env.Now()), 1);
  ASSERT_EQ(flush.created.size(), 2u);
  EXPECT_EQ(flush.created[0].kind(), "digest");
  EXPECT_EQ(flush.created[0].event_id().rfind("digest:m1:", 0), 0u);
}

TEST(EventIntakeTest, AnErasedMemberLosesPreferencesChatAndDigest) {
  ModuleEnv env;
  EventIntake intake(*env.modules);
  Txn txn;
  env.prefs->AttachTelegram(txn, MemberId("m1"), "42", env.Now());
  env.links->LinkChat(txn, "42", MemberId("m1"));
  env.digests->Add(txn, MemberId("m1"), 1, TimeMs(0), DigestItem());
  env.Commit(txn);
  v1::LoyaltyEvent erased;
  erased.set_member_id("m1");
  erased.set_event_id("x1");
  erased.mutable_member_erased();
  Txn erase;
  BatchResult result;
  intake.Apply(erase, Source(), EventCmd{erased}, {}, result);
  env.Commit(erase);
  EXPECT_EQ(result.unmapped, 1);
  EXPECT_EQ(env.prefs->Find(MemberId("m1")), nullptr);
  EXPECT_FALSE(env.links->MemberOfChat("42").has_value());
  EXPECT_EQ(env.digests->size(), 0u);
}

}  // namespace
}  // namespace loyalty::notification
