// The referral core on a real RocksDB with a manual clock and a fake accrual: attribution,
// each anti-fraud rule against its case and a legitimate neighbour, qualification, awards
// that pay exactly once across failures and restarts, reversal, review, stats and paging.
#include <gtest/gtest.h>

#include "tests/support/test_caller.h"
#include "tests/unit/referral/test_env.h"

namespace loyalty::referral {
namespace {

using v1::REFERRAL_STATUS_EXPIRED;
using v1::REFERRAL_STATUS_HELD;
using v1::REFERRAL_STATUS_PENDING;
using v1::REFERRAL_STATUS_QUALIFIED;
using v1::REFERRAL_STATUS_REJECTED;
using v1::REFERRAL_STATUS_REVERSED;
using v1::REFERRAL_STATUS_REWARDED;

class ReferralCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env.Enroll("alice", "+380671110001", "alice@example.com");
    env.Enroll("bob", "+380671110002", "bob@example.com");
  }
  ReferralTestEnv env;
};

TEST_F(ReferralCoreTest, CodeIsStablePerMemberAndUnknownMembersHaveNone) {
  std::string code = env.Code("alice");
  EXPECT_EQ(code.size(), 8u);
  EXPECT_EQ(env.Code("alice"), code);
  env.Restart();
  EXPECT_EQ(env.Code("alice"), code);
  EXPECT_NE(env.Code("bob"), code);
  EXPECT_EQ(env.core->GetReferralCode("ghost").status().code(), Code::kNotFound);
  EXPECT_EQ(env.core->GetReferralCode("").status().message().rfind("member_id:", 0), 0u);
}

TEST_F(ReferralCoreTest, VanityCodeResolvesAlongsideTheGeneratedOneAndIsUnique) {
  std::string generated = env.Code("alice");
  v1::SetVanityCodeRequest vanity;
  vanity.set_member_id("alice");
  vanity.set_code("alice-2026");
  vanity.set_idempotency_key("v1");
  auto set = env.core->SetVanityCode(kTestCaller, vanity);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->code(), "ALICE2026");
  EXPECT_EQ(set->generated_code(), generated);
  EXPECT_EQ(env.Code("alice"), "ALICE2026");

  vanity.set_member_id("bob");
  vanity.set_idempotency_key("v2");
  EXPECT_EQ(env.core->SetVanityCode(kTestCaller, vanity).status().code(), Code::kAlreadyExists);

  v1::ApplyReferralRequest apply;
  apply.set_invitee_id("bob");
  apply.set_code("alice2026");
  apply.set_idempotency_key("a1");
  auto r = env.core->ApplyReferral(kTestCaller, apply);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->referrer_id(), "alice");
  EXPECT_EQ(r->status(), REFERRAL_STATUS_PENDING);
}

TEST_F(ReferralCoreTest, FullFlowQualifiesOnFirstQualifyingPurchaseAndPaysBothOnce) {
  auto r = env.Apply("bob", "alice");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status(), REFERRAL_STATUS_PENDING);

  env.Feed({env.Purchase("bob", "p-small", 5'000)});  // below the 10,000 minimum
  EXPECT_EQ(env.Get(r->referral_id()).status(), REFERRAL_STATUS_PENDING);
  auto qualifying = env.Purchase("bob", "p-big", 20'000);
  auto result = env.Feed({qualifying});
  EXPECT_EQ(result.applied, 1);
  v1::Referral q = env.Get(r->referral_id());
  EXPECT_EQ(q.status(), REFERRAL_STATUS_QUALIFIED);
  EXPECT_EQ(q.purchase_id(), "p-big");
  EXPECT_EQ(env.core->PendingWork(), 1u);

  StepsResult steps = env.core->RunPendingSteps();
  EXPECT_EQ(steps.done, 2);
  EXPECT_EQ(env.accrual.credited()["alice"], 500);
  EXPECT_EQ(env.accrual.credited()["bob"], 250);
  const auto award = env.accrual.awards().at("referral:" + r->referral_id() + ":referrer");
  EXPECT_EQ(award.source(), "referral");
  EXPECT_EQ(env.Get(r->referral_id()).status(), REFERRAL_STATUS_REWARDED);
  EXPECT_EQ(env.core->PendingWork(), 0u);

  // Duplicates: the same event at a new offset, the same offset again, a later purchase.
  auto dup = env.Feed({env.Again(qualifying), qualifying, env.Purchase("bob", "p-next", 90'000)});
  EXPECT_EQ(dup.duplicates, 2);
  EXPECT_EQ(env.core->RunPendingSteps().done, 0);
  EXPECT_EQ(env.accrual.awards().size(), 2u);
  EXPECT_EQ(env.Get(r->referral_id()).purchase_id(), "p-big");

  // Events: qualified for both, rewarded for both, ids "referral:<member>:<seq>".
  std::map<std::string, int> kinds;
  std::set<std::string> ids;
  for (const auto& e : env.Events()) {
    ids.insert(e.event_id());
    EXPECT_EQ(e.source_service(), "referral");
    EXPECT_EQ(e.event_id(), "referral:" + e.member_id() + ":" + std::to_string(e.sequence()));
    if (e.has_referral_qualified()) ++kinds["qualified/" + e.member_id()];
    if (e.has_referral_rewarded()) {
      ++kinds["rewarded/" + e.member_id() + "/" + e.referral_rewarded().role()];
    }
  }
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(kinds["qualified/alice"], 1);
  EXPECT_EQ(kinds["qualified/bob"], 1);
  EXPECT_EQ(kinds["rewarded/alice/referrer"], 1);
  EXPECT_EQ(kinds["rewarded/bob/invitee"], 1);

  auto stats = env.core->GetReferralStats("alice");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->invited(), 1);
  EXPECT_EQ(stats->rewarded(), 1);
  EXPECT_EQ(stats->points_earned(), 500);
  auto bob_stats = env.core->GetReferralStats("bob");
  EXPECT_EQ(bob_stats->referred_by(), "alice");
  EXPECT_EQ(bob_stats->points_earned(), 250);
}

TEST_F(ReferralCoreTest, OneSidedProgramPaysOnlyTheReferrer) {
  ReferralConfig config;
  config.two_sided = false;
  ReferralTestEnv one(config);
  one.Enroll("a", "+380671110011");
  one.Enroll("b", "+380671110012");
  auto r = one.Apply("b", "a");
  one.Feed({one.Purchase("b", "p1", 10'000)});
  EXPECT_EQ(one.core->RunPendingSteps().done, 1);
  EXPECT_EQ(one.accrual.credited()["a"], 500);
  EXPECT_EQ(one.accrual.credited().count("b"), 0u);
  EXPECT_EQ(one.Get(r->referral_id()).status(), REFERRAL_STATUS_REWARDED);
}

TEST_F(ReferralCoreTest, ApplyIsIdempotentAndAnInviteeHasOneReferrerForever) {
  env.Enroll("carol", "+380671110003");
  auto first = env.Apply("bob", "alice", "k1");
  auto again = env.Apply("bob", "alice", "k1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->referral_id(), first->referral_id());
  auto other_args = env.Apply("bob", "carol", "k1");
  EXPECT_EQ(other_args.status().code(), Code::kAlreadyExists);
  auto second = env.Apply("bob", "carol", "k2");
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(second.status().message().rfind("invitee_id:", 0), 0u);

  v1::ApplyReferralRequest bad;
  bad.set_invitee_id("bob");
  bad.set_code("ZZZZZZZZ");
  bad.set_idempotency_key("k3");
  EXPECT_EQ(env.core->ApplyReferral(kTestCaller, bad).status().code(), Code::kNotFound);
  bad.set_invitee_id("ghost");
  bad.set_code(env.Code("alice"));
  EXPECT_EQ(env.core->ApplyReferral(kTestCaller, bad).status().code(), Code::kNotFound);
  bad.set_idempotency_key("");
  EXPECT_EQ(
      env.core->ApplyReferral(kTestCaller, bad).status().message().rfind("idempotency_key:", 0),
      0u);
}

// --- each rule: its case is refused, a legitimate neighbour passes ---

TEST_F(ReferralCoreTest, SelfReferralBySameIdPhoneOrEmailIsRejected) {
  auto own = env.Apply("alice", "alice");
  EXPECT_EQ(own->status(), REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(own->reason(), "self_referral");

  env.Enroll("alice2", "+380 67 111 00 01");  // alice's phone, written differently
  EXPECT_EQ(env.Apply("alice2", "bob")->status(), REFERRAL_STATUS_PENDING);  // neighbour
  env.Enroll("alice3", "+380671110009", "al.ice+x@gmail.com");
  env.Enroll("alice4", "+380671110008", "alice@gmail.com");
  auto same_email = env.Apply("alice3", "alice4");
  EXPECT_EQ(same_email->status(), REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(same_email->reason(), "self_referral");

  env.Enroll("twin", "+380671110001");  // same phone as alice
  auto same_phone = env.Apply("twin", "alice");
  EXPECT_EQ(same_phone->status(), REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(env.FactCounts()["rejected/self_referral"], 3);
  // The neighbour: different contacts.
  EXPECT_EQ(env.Apply("bob", "alice")->status(), REFERRAL_STATUS_PENDING);

  bool rejected_event = false;
  for (const auto& e : env.Events()) {
    if (e.has_referral_rejected() && e.member_id() == "twin") {
      rejected_event = e.referral_rejected().reason() == "self_referral";
    }
  }
  EXPECT_TRUE(rejected_event);
}

TEST_F(ReferralCoreTest, CodeAppliedTooLongAfterEnrolmentIsRejected) {
  env.Enroll("late", "+380671110021", "", /*days_ago=*/31);
  env.Enroll("in-time", "+380671110022", "", /*days_ago=*/29);
  auto late = env.Apply("late", "alice");
  EXPECT_EQ(late->status(), REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(late->reason(), "late_application");
  EXPECT_EQ(env.Apply("in-time", "alice")->status(), REFERRAL_STATUS_PENDING);
}

TEST_F(ReferralCoreTest, ApplicationWindowInSecondsWinsOverDays) {
  ReferralConfig config;
  config.apply_within_seconds = 5;
  ReferralTestEnv short_window(config);
  short_window.Enroll("r", "+380671119999");
  short_window.Enroll("late", "+380671110021");
  short_window.clock.Advance(6 * kSecondMs);
  short_window.Enroll("in-time", "+380671110022");
  short_window.clock.Advance(5 * kSecondMs);  // exactly at the end of the window: in time
  auto late = short_window.Apply("late", "r");
  EXPECT_EQ(late->status(), REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(late->reason(), "late_application");
  EXPECT_EQ(late->reason_detail(), "code applied more than 5 seconds after enrolment");
  EXPECT_EQ(short_window.Apply("in-time", "r")->status(), REFERRAL_STATUS_PENDING);
}

TEST_F(ReferralCoreTest, ApplicationWindowSettingsAreReadAndChecked) {
  auto config = Config::FromYamlText("referral:\n  apply_within_seconds: 3\n");
  ASSERT_TRUE(config.ok());
  auto program = ReferralConfig::FromConfig(*config);
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  EXPECT_EQ(program->ApplyWithinMs(), 3 * kSecondMs);
  EXPECT_EQ(ReferralConfig().ApplyWithinMs(), 30 * kDayMs);
  auto negative = Config::FromYamlText("referral:\n  apply_within_seconds: -1\n");
  ASSERT_TRUE(negative.ok());
  EXPECT_EQ(ReferralConfig::FromConfig(*negative).status().message().rfind(
                "referral.apply_within_seconds:", 0),
            0u);
}

TEST_F(ReferralCoreTest, CyclesAreRejectedDirectAndIndirect) {
  env.Enroll("carol", "+380671110003");
  env.Enroll("dave", "+380671110004");
  ASSERT_EQ(env.Apply("bob", "alice")->status(), REFERRAL_STATUS_PENDING);  // alice -> bob
  auto back = env.Apply("alice", "bob");                                    // bob -> alice
  EXPECT_EQ(back->status(), REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(back->reason(), "cycle");

  ASSERT_EQ(env.Apply("carol", "bob")->status(), REFERRAL_STATUS_PENDING);  // bob -> carol
  env.Enroll("erin", "+380671110005");
  // Neighbour: dave applies carol's code, no cycle.
  EXPECT_EQ(env.Apply("dave", "carol")->status(), REFERRAL_STATUS_PENDING);
  // erin is new; carol -> erin is fine, but nobody already in the chain can refer upward.
  EXPECT_EQ(env.Apply("erin", "dave")->status(), REFERRAL_STATUS_PENDING);
}

TEST_F(ReferralCoreTest, IndirectCycleThroughThreeMembersIsRejected) {
  env.Enroll("carol", "+380671110003");
  ASSERT_EQ(env.Apply("bob", "alice")->status(), REFERRAL_STATUS_PENDING);  // alice -> bob
  ASSERT_EQ(env.Apply("carol", "bob")->status(), REFERRAL_STATUS_PENDING);  // bob -> carol
  // alice was not referred yet; carol -> alice would close alice -> bob -> carol -> alice.
  auto closing = env.Apply("alice", "carol");
  EXPECT_EQ(closing->status(), REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(closing->reason(), "cycle");
}

TEST_F(ReferralCoreTest, MoreThanNReferralsPerPeriodAreHeldOrRejectedByConfig) {
  ReferralConfig config;
  config.cap_count = 2;
  config.cap_period_days = 30;
  config.referrer_cap = RuleAction::kReject;
  ReferralTestEnv capped(config);
  capped.Enroll("r", "+380671119999");
  for (int i = 0; i < 4; ++i)
    capped.Enroll("i" + std::to_string(i), "+38067111000" + std::to_string(i));
  EXPECT_EQ(capped.Apply("i0", "r")->status(), REFERRAL_STATUS_PENDING);
  EXPECT_EQ(capped.Apply("i1", "r")->status(), REFERRAL_STATUS_PENDING);
  auto third = capped.Apply("i2", "r");
  EXPECT_EQ(third->status(), REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(third->reason(), "referrer_cap");
  // Neighbour: the same referrer once the period has passed.
  capped.clock.Advance(31 * kDayMs);
  capped.Enroll("i3", "+380671110003");
  EXPECT_EQ(capped.Apply("i3", "r")->status(), REFERRAL_STATUS_PENDING);

  // Default action is hold: the referral waits for an operator.
  ReferralConfig held_config;
  held_config.cap_count = 1;
  ReferralTestEnv held(held_config);
  held.Enroll("r", "+380671119999");
  held.Enroll("a", "+380671110001");
  held.Enroll("b", "+380671110002");
  EXPECT_EQ(held.Apply("a", "r")->status(), REFERRAL_STATUS_PENDING);
  auto h = held.Apply("b", "r");
  EXPECT_EQ(h->status(), REFERRAL_STATUS_HELD);
  auto list = held.core->ListHeldReferrals({});
  ASSERT_EQ(list->referrals_size(), 1);
  EXPECT_EQ(list->referrals(0).referral_id(), h->referral_id());
  EXPECT_EQ(held.FactCounts()["held/referrer_cap"], 1);
}

TEST_F(ReferralCoreTest, FirstPurchaseAtReferrersStoreWithinMinutesIsHeld) {
  env.Enroll("carol", "+380671110003");
  auto r1 = env.Apply("bob", "alice");
  auto r2 = env.Apply("carol", "alice");
  int64_t t = env.clock.NowMs();
  env.Feed({env.Purchase("alice", "pa", 1'000, "kyiv-01", t)});
  // bob buys at the same store 10 minutes later: held.
  env.Feed({env.Purchase("bob", "pb", 20'000, "kyiv-01", t + 10 * kMinuteMs)});
  v1::Referral held = env.Get(r1->referral_id());
  EXPECT_EQ(held.status(), REFERRAL_STATUS_HELD);
  EXPECT_EQ(held.reason(), "same_store");
  EXPECT_EQ(held.purchase_id(), "pb");
  // Neighbour: carol at the same store 40 minutes later qualifies.
  env.Feed({env.Purchase("carol", "pc", 20'000, "kyiv-01", t + 40 * kMinuteMs)});
  EXPECT_EQ(env.Get(r2->referral_id()).status(), REFERRAL_STATUS_QUALIFIED);
  EXPECT_EQ(env.core->RunPendingSteps().done, 2);
  EXPECT_EQ(env.accrual.credited()["alice"], 500);
  EXPECT_EQ(env.accrual.credited().count("bob"), 0u);

  // The operator approves the held one: it qualifies with its recorded purchase.
  v1::ReviewReferralRequest review;
  review.set_referral_id(r1->referral_id());
  review.set_actor("ops@example.com");
  review.set_idempotency_key("approve-1");
  auto approved = env.core->ApproveReferral(kTestCaller, review);
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  EXPECT_EQ(approved->status(), REFERRAL_STATUS_QUALIFIED);
  EXPECT_EQ(approved->reviewed_by(), "ops@example.com");
  EXPECT_EQ(env.core->RunPendingSteps().done, 2);
  EXPECT_EQ(env.accrual.credited()["alice"], 1000);
  EXPECT_EQ(env.accrual.credited()["bob"], 250);
  EXPECT_EQ(env.core->ListHeldReferrals({})->referrals_size(), 0);
  // Approving again under another key: no longer held.
  review.set_idempotency_key("approve-2");
  EXPECT_EQ(env.core->ApproveReferral(kTestCaller, review).status().code(),
            Code::kFailedPrecondition);
}

TEST_F(ReferralCoreTest, SameStoreRuleRejectsWhenConfiguredAndOtherStorePasses) {
  ReferralConfig config;
  config.same_store = RuleAction::kReject;
  ReferralTestEnv strict(config);
  strict.Enroll("a", "+380671110001");
  strict.Enroll("b", "+380671110002");
  strict.Enroll("c", "+380671110003");
  auto rb = strict.Apply("b", "a");
  auto rc = strict.Apply("c", "a");
  int64_t t = strict.clock.NowMs();
  strict.Feed({strict.Purchase("a", "pa", 1'000, "s1", t + 5 * kMinuteMs)});
  strict.Feed({strict.Purchase("b", "pb", 20'000, "s1", t)});  // before the referrer's, 5 min
  strict.Feed({strict.Purchase("c", "pc", 20'000, "s2", t)});  // neighbour: another store
  EXPECT_EQ(strict.Get(rb->referral_id()).status(), REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(strict.Get(rb->referral_id()).reason(), "same_store");
  EXPECT_EQ(strict.Get(rc->referral_id()).status(), REFERRAL_STATUS_QUALIFIED);
}

TEST_F(ReferralCoreTest, OperatorRejectsAHeldReferral) {
  ReferralConfig config;
  config.cap_count = 1;
  ReferralTestEnv held(config);
  held.Enroll("r", "+380671119999");
  held.Enroll("a", "+380671110001");
  held.Enroll("b", "+380671110002");
  held.Apply("a", "r");
  auto h = held.Apply("b", "r");
  v1::ReviewReferralRequest review;
  review.set_referral_id(h->referral_id());
  review.set_idempotency_key("rej");
  EXPECT_EQ(held.core->RejectReferral(kTestCaller, review).status().message().rfind("actor:", 0),
            0u);
  review.set_actor("ops");
  review.set_note("known fraud ring");
  auto rejected = held.core->RejectReferral(kTestCaller, review);
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(rejected->status(), REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(rejected->reason(), "operator");
  // A purchase afterwards changes nothing.
  held.Feed({held.Purchase("b", "pb", 50'000)});
  EXPECT_EQ(held.Get(h->referral_id()).status(), REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(held.core->GetReferralStats("r")->rejected_by_reason().at("operator"), 1);
}

TEST_F(ReferralCoreTest, PurchasesBeforeApplyingOrAfterTheWindowDoNotQualify) {
  int64_t before = env.clock.NowMs() - kHourMs;
  auto r = env.Apply("bob", "alice");
  env.Feed({env.Purchase("bob", "old", 50'000, "s", before)});
  EXPECT_EQ(env.Get(r->referral_id()).status(), REFERRAL_STATUS_PENDING);
  env.clock.Advance(91 * kDayMs);
  env.Feed({env.Purchase("bob", "late", 50'000)});
  EXPECT_EQ(env.Get(r->referral_id()).status(), REFERRAL_STATUS_EXPIRED);
  EXPECT_EQ(env.core->RunPendingSteps().done, 0);
}

// --- awards across failures and restarts ---

TEST_F(ReferralCoreTest, AwardsResumeAfterOutageAndRestartAndPayExactlyOnce) {
  auto r = env.Apply("bob", "alice");
  env.accrual.SetAllUnavailable(true);
  env.Feed({env.Purchase("bob", "p1", 20'000)});
  StepsResult down = env.core->RunPendingSteps();
  EXPECT_EQ(down.retrying, 2);
  EXPECT_EQ(env.Get(r->referral_id()).status(), REFERRAL_STATUS_QUALIFIED);

  // Accrual back; the first award lands but its reply is lost, then the process restarts.
  env.accrual.SetAllUnavailable(false);
  env.accrual.LoseAnswer("AwardPoints", 1);
  StepsResult partial = env.core->RunPendingSteps();
  EXPECT_EQ(partial.retrying, 1);
  EXPECT_EQ(partial.done, 1);
  env.Restart();
  EXPECT_EQ(env.core->PendingWork(), 1u);
  StepsResult resumed = env.core->RunPendingSteps();
  EXPECT_EQ(resumed.done, 1);
  EXPECT_EQ(env.accrual.credited()["alice"], 500);
  EXPECT_EQ(env.accrual.credited()["bob"], 250);
  EXPECT_EQ(env.accrual.awards().size(), 2u);
  EXPECT_EQ(env.Get(r->referral_id()).status(), REFERRAL_STATUS_REWARDED);
  EXPECT_EQ(env.core->PendingWork(), 0u);
}

TEST_F(ReferralCoreTest, ErasedMemberAwardFailsForGoodAndIsRecorded) {
  auto r = env.Apply("bob", "alice");
  env.Feed({env.Purchase("bob", "p1", 20'000)});
  env.accrual.SetStatus("bob", v1::MEMBER_STATUS_ERASED);
  StepsResult result = env.core->RunPendingSteps();
  EXPECT_EQ(result.done, 1);
  EXPECT_EQ(result.failed, 1);
  v1::Referral done = env.Get(r->referral_id());
  EXPECT_EQ(done.invitee().award(), v1::STEP_STATE_FAILED);
  EXPECT_EQ(done.status(), REFERRAL_STATUS_REWARDED);
  EXPECT_EQ(env.core->PendingWork(), 0u);
}

// --- reversal ---

TEST_F(ReferralCoreTest, RefundOfTheQualifyingPurchaseReversesBothBonusesOnce) {
  auto r = env.Apply("bob", "alice");
  env.Feed({env.Purchase("bob", "p1", 20'000)});
  env.core->RunPendingSteps();
  env.Feed({env.Refund("bob", "other-refund", "another-purchase")});
  EXPECT_EQ(env.Get(r->referral_id()).status(), REFERRAL_STATUS_REWARDED);
  env.clock.Advance(3 * kDayMs);
  auto refund = env.Refund("bob", "rf1", "p1");
  env.Feed({refund});
  EXPECT_EQ(env.Get(r->referral_id()).status(), REFERRAL_STATUS_REVERSED);
  EXPECT_EQ(env.core->RunPendingSteps().done, 2);
  env.Feed({env.Again(refund), env.Refund("bob", "rf2", "p1")});
  EXPECT_EQ(env.core->RunPendingSteps().done, 0);
  EXPECT_EQ(env.accrual.credited()["alice"], 0);
  EXPECT_EQ(env.accrual.credited()["bob"], 0);
  const auto adjust =
      env.accrual.adjustments().at("referral:" + r->referral_id() + ":referrer:reverse");
  EXPECT_EQ(adjust.delta(), -500);
  EXPECT_TRUE(adjust.allow_debt());
  EXPECT_NE(adjust.reason().find("refund rf1"), std::string::npos) << adjust.reason();
  EXPECT_EQ(env.core->GetReferralStats("alice")->points_earned(), 0);
  EXPECT_EQ(env.core->GetReferralStats("alice")->reversed(), 1);
}

TEST_F(ReferralCoreTest, RefundAfterTheReturnWindowKeepsTheBonuses) {
  auto r = env.Apply("bob", "alice");
  env.Feed({env.Purchase("bob", "p1", 20'000)});
  env.core->RunPendingSteps();
  env.clock.Advance(31 * kDayMs);
  env.Feed({env.Refund("bob", "rf1", "p1")});
  EXPECT_EQ(env.Get(r->referral_id()).status(), REFERRAL_STATUS_REWARDED);
  EXPECT_EQ(env.accrual.credited()["alice"], 500);
}

TEST_F(ReferralCoreTest, RefundFollowsAccrualsReturnWindowCarriedByThePurchase) {
  // Accrual's window (2 days, shorter than referral's own 30) comes with the purchase:
  // release_at_ms of its pending points.
  env.Enroll("carol", "+380671110003");
  auto rb = env.Apply("bob", "alice");
  auto rc = env.Apply("carol", "alice");
  int64_t t = env.clock.NowMs();
  env.Feed({env.Purchase("bob", "pb", 20'000, "s", t, t + 2 * kDayMs),
            env.Purchase("carol", "pc", 20'000, "s", t, t + 2 * kDayMs)});
  EXPECT_EQ(env.Get(rb->referral_id()).return_window_ends_at_ms(), t + 2 * kDayMs);
  EXPECT_EQ(env.core->RunPendingSteps().done, 4);
  // Within accrual's window (up to and including its end): reversed.
  env.Feed({env.Refund("bob", "rb", "pb", t + 2 * kDayMs)});
  EXPECT_EQ(env.Get(rb->referral_id()).status(), REFERRAL_STATUS_REVERSED);
  // After accrual's window, though well within referral's 30 days: the bonuses stay.
  env.Feed({env.Refund("carol", "rc", "pc", t + 2 * kDayMs + 1)});
  EXPECT_EQ(env.Get(rc->referral_id()).status(), REFERRAL_STATUS_REWARDED);
  EXPECT_EQ(env.core->RunPendingSteps().done, 2);
  EXPECT_EQ(env.accrual.credited()["alice"], 500);
  EXPECT_EQ(env.accrual.credited()["bob"], 0);
  EXPECT_EQ(env.accrual.credited()["carol"], 250);
}

TEST_F(ReferralCoreTest, WithoutAccrualWindowReferralsOwnWindowApplies) {
  // Accrual credits at once (no release time on the event): return_window_days (30) counts.
  auto r = env.Apply("bob", "alice");
  int64_t t = env.clock.NowMs();
  env.Feed({env.Purchase("bob", "p1", 20'000, "s", t)});
  EXPECT_EQ(env.Get(r->referral_id()).return_window_ends_at_ms(), t + 30 * kDayMs);
  env.core->RunPendingSteps();
  env.Feed({env.Refund("bob", "rf1", "p1", t + 30 * kDayMs)});
  EXPECT_EQ(env.Get(r->referral_id()).status(), REFERRAL_STATUS_REVERSED);
}

TEST_F(ReferralCoreTest, RefundWhileAwardsArePendingPaysThenReverses) {
  auto r = env.Apply("bob", "alice");
  env.Feed({env.Purchase("bob", "p1", 20'000), env.Refund("bob", "rf1", "p1")});
  EXPECT_EQ(env.Get(r->referral_id()).status(), REFERRAL_STATUS_REVERSED);
  env.core->RunPendingSteps();  // awards
  env.core->RunPendingSteps();  // reversals
  EXPECT_EQ(env.accrual.awards().size(), 2u);
  EXPECT_EQ(env.accrual.adjustments().size(), 2u);
  EXPECT_EQ(env.accrual.credited()["alice"], 0);
  EXPECT_EQ(env.core->PendingWork(), 0u);
}

// --- reads ---

TEST_F(ReferralCoreTest, ListReferralsPagesOldestFirst) {
  for (int i = 0; i < 7; ++i) {
    std::string id = "f" + std::to_string(i);
    env.Enroll(id, "+38067222000" + std::to_string(i));
    env.clock.Advance(kMinuteMs);
    ASSERT_TRUE(env.Apply(id, "alice").ok());
  }
  std::vector<std::string> invitees;
  std::string token;
  int pages = 0;
  do {
    v1::ListReferralsRequest request;
    request.set_member_id("alice");
    request.set_page_size(3);
    request.set_page_token(token);
    auto page = env.core->ListReferrals(request);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& r : page->referrals()) invitees.push_back(r.invitee_id());
    token = page->next_page_token();
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(invitees.size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(invitees[i], "f" + std::to_string(i));
  v1::ListReferralsRequest bad;
  bad.set_member_id("alice");
  bad.set_page_token("nonsense");
  EXPECT_EQ(env.core->ListReferrals(bad).status().code(), Code::kInvalidArgument);
}

TEST_F(ReferralCoreTest, EventsOfOtherMembersAndGarbageAreCheap) {
  env.Apply("bob", "alice");
  auto result = env.Feed({env.Purchase("stranger", "ps", 99'000), env.Message("garbage\xff")});
  EXPECT_EQ(result.ignored, 1);
  EXPECT_EQ(result.dead_lettered, 1);
  // Offsets are durable with the batch: the same messages again are duplicates.
  env.Restart();
  auto stored = env.core->StoredOffsets();
  EXPECT_EQ(stored.at({kEventsTopic, 0}), 2);
}

}  // namespace
}  // namespace loyalty::referral
