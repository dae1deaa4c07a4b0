#include <gtest/gtest.h>

#include "common/audit_log.h"

#include "tests/unit/accrual/test_env.h"

namespace loyalty::accrual {
namespace {

TEST(EnrollTest, NormalisesContactsAndKeepsThemUnique) {
  AccrualTestEnv env;
  v1::EnrollMemberRequest request;
  request.set_phone("+380 67 123 45 67");
  request.set_email("Olena@Example.com");
  request.set_idempotency_key("k1");
  auto member = env.core->EnrollMember(kTestCaller, request);
  ASSERT_TRUE(member.ok()) << member.status().ToString();
  EXPECT_EQ(member->phone(), "+380671234567");
  EXPECT_EQ(member->email(), "olena@example.com");
  EXPECT_EQ(member->tier(), "Bronze");
  EXPECT_EQ(member->member_id().rfind("m_", 0), 0u);

  v1::EnrollMemberRequest again;
  again.set_phone("00380671234567");
  again.set_idempotency_key("k2");
  auto duplicate = env.core->EnrollMember(kTestCaller, again);
  EXPECT_EQ(duplicate.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(duplicate.status().message().rfind("phone:", 0), 0u);
}

TEST(EnrollTest, BadInputNamesTheField) {
  AccrualTestEnv env;
  v1::EnrollMemberRequest request;
  request.set_idempotency_key("k");
  EXPECT_EQ(env.core->EnrollMember(kTestCaller, request).status().code(), Code::kInvalidArgument);
  request.set_email("not-an-email");
  EXPECT_EQ(env.core->EnrollMember(kTestCaller, request).status().message().rfind("email:", 0), 0u);
  request.set_email("a@b.com");
  request.set_idempotency_key("");
  EXPECT_EQ(
      env.core->EnrollMember(kTestCaller, request).status().message().rfind("idempotency_key:", 0),
      0u);
}

TEST(EnrollTest, WelcomeBonusIsALedgerEntryAndAnEvent) {
  AccrualConfig config;
  config.welcome_bonus = 50;
  AccrualTestEnv env(config);
  env.Enroll("m1", "+380671234567");
  EXPECT_EQ(env.Balance("m1").available(), 50);
  auto ledger = env.Ledger("m1");
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].kind(), v1::LEDGER_KIND_AWARD);
  EXPECT_EQ(ledger[0].reason(), "welcome bonus");
  auto events = env.Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].has_member_enrolled());
  EXPECT_TRUE(events[1].has_points_awarded());
  EXPECT_EQ(events[1].sequence(), 2);
  EXPECT_EQ(events[1].event_id(), "m1:2");
}

v1::EnrollMemberRequest EnrollRequest(const std::string& id, const std::string& phone,
                                      const std::string& key) {
  v1::EnrollMemberRequest request;
  request.set_member_id(id);
  request.set_phone(phone);
  request.set_idempotency_key(key);
  return request;
}

TEST(EnrollTest, EnrollMembersIsEachEnrollMemberInOrderWithItsOwnAnswer) {
  AccrualConfig config;
  config.welcome_bonus = 50;
  AccrualTestEnv env(config);
  v1::EnrollMembersRequest bulk;
  *bulk.add_members() = EnrollRequest("a", "+380671110001", "ka");
  *bulk.add_members() = EnrollRequest("b", "+380671110002", "kb");
  *bulk.add_members() = EnrollRequest("c", "+380671110001", "kc");  // a's phone
  *bulk.add_members() = EnrollRequest("d", "12", "kd");             // not a phone
  *bulk.add_members() = EnrollRequest("a", "+380671110009", "ke");  // a's id
  *bulk.add_members() = EnrollRequest("b", "+380671110002", "kb");  // b again, same key
  auto response = env.core->EnrollMembers(kTestCaller, bulk);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->results_size(), 6);
  auto code = [&](int i) { return static_cast<Code>(response->results(i).code()); };
  EXPECT_EQ(code(0), Code::kOk);
  EXPECT_EQ(response->results(0).member().member_id(), "a");
  EXPECT_EQ(code(1), Code::kOk);
  EXPECT_EQ(code(2), Code::kAlreadyExists);
  EXPECT_EQ(response->results(2).error().rfind("phone:", 0), 0u);
  EXPECT_FALSE(response->results(2).has_member());
  EXPECT_EQ(code(3), Code::kInvalidArgument);
  EXPECT_EQ(response->results(3).error().rfind("phone:", 0), 0u);
  EXPECT_EQ(code(4), Code::kAlreadyExists);
  EXPECT_EQ(code(5), Code::kOk);
  EXPECT_EQ(response->results(5).SerializeAsString(), response->results(1).SerializeAsString());
  EXPECT_EQ(env.core->MemberCount(), 2);
  EXPECT_EQ(env.Balance("a").available(), 50);
  EXPECT_EQ(env.Events().size(), 4u);  // enrolled and welcome bonus, twice

  // The whole call again: the same answers from the keys, nothing enrolled twice. Each key is
  // EnrollMember's, so a single call under one of them is a retry too.
  auto retry = env.core->EnrollMembers(kTestCaller, bulk);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->results(0).SerializeAsString(), response->results(0).SerializeAsString());
  EXPECT_EQ(retry->results(1).SerializeAsString(), response->results(1).SerializeAsString());
  auto single = env.core->EnrollMember(kTestCaller, bulk.members(0));
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->SerializeAsString(), response->results(0).member().SerializeAsString());
  EXPECT_EQ(env.core->MemberCount(), 2);
  EXPECT_EQ(env.Balance("a").available(), 50);
  EXPECT_EQ(env.Events().size(), 4u);
  env.Restart();
  EXPECT_EQ(env.Balance("b").available(), 50);

  EXPECT_EQ(env.core->EnrollMembers(kTestCaller, {}).status().code(), Code::kInvalidArgument);
}

TEST(IdempotencyTest, RetryReturnsTheFirstResultAndChangesNothing) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  v1::AwardPointsRequest award;
  award.set_member_id("m1");
  award.set_points(100);
  award.set_reason("goodwill");
  award.set_idempotency_key("award-1");
  auto first = env.core->AwardPoints(kTestCaller, award);
  ASSERT_TRUE(first.ok());
  auto second = env.core->AwardPoints(kTestCaller, award);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->sequence(), second->sequence());
  EXPECT_EQ(env.Balance("m1").available(), 100);

  award.set_points(200);
  auto conflicting = env.core->AwardPoints(kTestCaller, award);
  EXPECT_EQ(conflicting.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(env.Balance("m1").available(), 100);

  env.Restart();  // remembered across restarts too
  award.set_points(100);
  ASSERT_TRUE(env.core->AwardPoints(kTestCaller, award).ok());
  EXPECT_EQ(env.Balance("m1").available(), 100);
}

TEST(IdempotencyTest, AKeyIsTheCallersOwnAndTheEntryAndEventNameTheCaller) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  const Principal till("spiffe://loyalty/till/kyiv-01"), shop("apikey:web-shop");
  v1::AdjustPointsRequest adjust;
  adjust.set_member_id("m1");
  adjust.set_delta(50);
  adjust.set_reason("goodwill");
  adjust.set_actor("typed by the caller");
  adjust.set_idempotency_key("same-key");
  auto by_till = env.core->AdjustPoints(till, adjust);
  ASSERT_TRUE(by_till.ok());
  EXPECT_EQ(by_till->principal(), till.value());
  // The shop's call with the till's key is a call of its own, not the till's answer.
  adjust.set_delta(70);
  auto by_shop = env.core->AdjustPoints(shop, adjust);
  ASSERT_TRUE(by_shop.ok()) << by_shop.status().message();
  EXPECT_EQ(by_shop->principal(), shop.value());
  EXPECT_NE(by_shop->sequence(), by_till->sequence());
  EXPECT_EQ(env.Balance("m1").available(), 120);
  env.Restart();
  auto retried = env.core->AdjustPoints(shop, adjust);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->sequence(), by_shop->sequence());
  EXPECT_EQ(env.Balance("m1").available(), 120);

  std::vector<std::string> adjusted_by;
  for (const auto& event : env.Events()) {
    if (event.has_points_adjusted()) adjusted_by.push_back(event.principal());
  }
  EXPECT_EQ(adjusted_by, (std::vector<std::string>{till.value(), shop.value()}));
  // A purchase from the input topic is the service's own work: no principal.
  ASSERT_EQ(env.core->ApplyBatch({env.Purchase("p1", "m1", 10'000)}).purchases_applied, 1);
  EXPECT_EQ(env.Ledger("m1").front().principal(), "");
  EXPECT_EQ(env.Events().back().principal(), "");
}

TEST(AuditTest, AnAdjustmentIsAuditedWithItsCallerAndAReadOrARefusalIsNot) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  const Principal support("spiffe://loyalty/support/anna");
  v1::AdjustPointsRequest adjust;
  adjust.set_member_id("m1");
  adjust.set_delta(25);
  adjust.set_reason("late delivery");
  adjust.set_actor("anna");
  adjust.set_idempotency_key("adj-1");
  ASSERT_TRUE(env.core->AdjustPoints(support, adjust).ok());
  ASSERT_TRUE(env.core->AdjustPoints(support, adjust).ok());  // a retry: no second record
  adjust.set_delta(0);
  adjust.set_idempotency_key("adj-2");
  ASSERT_FALSE(env.core->AdjustPoints(support, adjust).ok());  // refused: nothing changed
  ASSERT_TRUE(env.core->GetBalance("m1").ok());

  auto audit = ListAuditLog(*env.store, {});
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->records_size(), 1);
  const v1::AuditRecord& record = audit->records(0);
  EXPECT_EQ(record.principal(), support.value());
  EXPECT_EQ(record.service(), "accrual");
  EXPECT_EQ(record.method(), "/loyalty.v1.AccrualService/AdjustPoints");
  EXPECT_NE(record.request_json().find("late delivery"), std::string::npos);
}

TEST(EarningTest, PurchaseEarnsTheTierRateRoundedDownWithBreakdown) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  auto result = env.core->ApplyBatch({env.Purchase("p1", "m1", 12'399)});
  EXPECT_EQ(result.purchases_applied, 1);
  EXPECT_EQ(env.Balance("m1").available(), 123);  // 1% of 123.99 rounded down
  auto ledger = env.Ledger("m1");
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].kind(), v1::LEDGER_KIND_EARN);
  EXPECT_EQ(ledger[0].breakdown().base_rate_bp(), 100);
  EXPECT_EQ(ledger[0].breakdown().base_points(), 123);
  EXPECT_EQ(ledger[0].source_id(), "p1");
  EXPECT_NE(ledger[0].reason().find("1% (Bronze)"), std::string::npos) << ledger[0].reason();
  auto events = env.Events();
  ASSERT_EQ(events.size(), 3u);  // enrolled, earned, first-purchase milestone
  ASSERT_TRUE(events[1].has_points_earned());
  EXPECT_EQ(events[1].points_earned().balance().available(), 123);
  ASSERT_TRUE(events[2].has_milestone_reached());
  EXPECT_EQ(events[2].milestone_reached().milestone_id(), "first_purchase");
}

TEST(EarningTest, DuplicatesChangeNothingWithinAndAcrossBatches) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  auto p1 = env.Purchase("p1", "m1", 10'000);
  auto p1_again = env.Purchase("p1", "m1", 10'000);  // same purchase, new offset
  auto result = env.core->ApplyBatch({p1, p1_again});
  EXPECT_EQ(result.purchases_applied, 1);
  EXPECT_EQ(result.duplicates, 1);
  env.Restart();
  result = env.core->ApplyBatch({p1});  // the broker redelivers an applied offset
  EXPECT_EQ(result.duplicates, 1);
  result = env.core->ApplyBatch({env.Purchase("p1", "m1", 10'000)});
  EXPECT_EQ(result.duplicates, 1);
  EXPECT_EQ(env.Balance("m1").available(), 100);
  EXPECT_EQ(env.Ledger("m1").size(), 1u);
}

TEST(EarningTest, BadMessagesAreDeadLetteredWithReasonAndOthersStillApply) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  std::vector<Input> batch = {
      env.Message(kPurchasesTopic, "m1", "\xff\xff garbage"),
      env.Purchase("p-eur", "m1", 1000, "EUR"),
      env.Purchase("p-nobody", "ghost", 1000),
      env.Purchase("", "m1", 1000),
      env.Message(kPurchasesTopic, "m1",
                  "{\"purchaseId\":\"p-json\",\"memberId\":\"m1\","
                  "\"amountMinor\":\"5000\",\"currency\":\"UAH\"}"),
      env.Purchase("p-ok", "m1", 10'000),
  };
  auto result = env.core->ApplyBatch(batch);
  EXPECT_EQ(result.purchases_applied, 2);
  EXPECT_EQ(env.Balance("m1").available(), 150);
  std::vector<v1::internal::OutboxRecord> dead;
  for (const auto& r : env.OutboxRecords()) {
    if (r.topic() == "loyalty.purchases.v1.dlq") dead.push_back(r);
  }
  ASSERT_EQ(dead.size(), 4u);
  EXPECT_EQ(dead[0].headers().at("reason_kind"), "undecodable");
  EXPECT_EQ(dead[0].value(), "\xff\xff garbage");  // the original bytes
  EXPECT_NE(dead[1].headers().at("reason").find("currency:"), std::string::npos);
  EXPECT_EQ(dead[2].headers().at("reason_kind"), "unknown_member");
  EXPECT_NE(dead[3].headers().at("reason").find("purchase_id:"), std::string::npos);
  EXPECT_EQ(dead[3].headers().at("source_offset"), "3");
}

TEST(EarningTest, RawRecordsAreDecodedOneAtATimeAsTheAdapterDoes) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  std::vector<InputMessage> batch;
  for (const Input& input :
       {env.Purchase("p1", "m1", 10'000), env.Message(kPurchasesTopic, "m1", "\xff not a purchase"),
        env.Message("loyalty.other.v1", "m1", "x"), env.Refund("r1", "p1", "m1", 5'000)}) {
    batch.push_back(input.source);
  }
  auto result = env.core->ApplyBatch(batch, DecodeCommand);
  EXPECT_EQ(result.purchases_applied, 1);
  EXPECT_EQ(result.refunds_applied, 1);
  EXPECT_EQ(result.dead_lettered.at("loyalty.purchases.v1|undecodable"), 1);
  EXPECT_EQ(result.dead_lettered.at("loyalty.other.v1|topic"), 1);
  EXPECT_EQ(env.Balance("m1").available(), 50);
  EXPECT_EQ(env.core->ApplyBatch(batch, DecodeCommand).duplicates, 4);  // offsets stored
}

TEST(RefundTest, ClawsBackInProportionAndRecordsDebtBeyondTheBalance) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  env.core->ApplyBatch({env.Purchase("p1", "m1", 10'000)});  // 100 points
  env.core->ApplyBatch({env.Refund("r1", "p1", "m1", 2'500)});
  EXPECT_EQ(env.Balance("m1").available(), 75);

  // Spend 70 of the 75, then refund the rest of the purchase: 75 to claw, 5 there, 70 owed.
  v1::HoldPointsRequest hold;
  hold.set_member_id("m1");
  hold.set_points(70);
  hold.set_idempotency_key("h");
  auto held = env.core->HoldPoints(kTestCaller, hold);
  ASSERT_TRUE(held.ok());
  v1::CaptureHoldRequest capture;
  capture.set_hold_id(held->hold_id());
  capture.set_idempotency_key("c");
  ASSERT_TRUE(env.core->CaptureHold(kTestCaller, capture).ok());
  env.core->ApplyBatch({env.Refund("r2", "p1", "m1", 7'500)});
  v1::Balance b = env.Balance("m1");
  EXPECT_EQ(b.available(), 0);
  EXPECT_EQ(b.debt(), 70);
  EXPECT_EQ(b.lifetime_clawed_back(), 100);

  // A later purchase repays the debt first.
  env.core->ApplyBatch({env.Purchase("p2", "m1", 10'000)});
  b = env.Balance("m1");
  EXPECT_EQ(b.debt(), 0);
  EXPECT_EQ(b.available(), 30);
  auto ledger = env.Ledger("m1");
  EXPECT_EQ(ledger.front().breakdown().debt_repaid(), 70);
  env.ExpectLedgerMatchesBalance("m1");
}

TEST(RefundTest, RefundBeyondThePurchaseIsDeadLettered) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  env.core->ApplyBatch({env.Purchase("p1", "m1", 10'000)});
  auto result = env.core->ApplyBatch({env.Refund("r1", "p1", "m1", 10'001)});
  EXPECT_EQ(result.refunds_applied, 0);
  EXPECT_EQ(result.dead_lettered.at("loyalty.refunds.v1|invalid"), 1);
  EXPECT_EQ(env.Balance("m1").available(), 100);
}

TEST(RefundTest, RefundBeforeItsPurchaseWaitsForIt) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  auto result = env.core->ApplyBatch({env.Refund("r1", "p1", "m1", 5'000)});
  EXPECT_EQ(result.refunds_parked, 1);
  env.core->ApplyBatch({env.Refund("r1", "p1", "m1", 5'000)});  // duplicate while parked
  env.Restart();
  result = env.core->ApplyBatch({env.Purchase("p1", "m1", 10'000)});
  EXPECT_EQ(result.refunds_applied, 1);
  EXPECT_EQ(env.Balance("m1").available(), 50);
  EXPECT_EQ(env.Balance("m1").lifetime_clawed_back(), 50);
  env.ExpectLedgerMatchesBalance("m1");
}

TEST(EarningTest, NonMemberPurchasesAreCountedAndEarnNothing) {
  AccrualTestEnv env;
  auto result = env.core->ApplyBatch({env.Purchase("p1", "", 10'000)});
  EXPECT_EQ(result.non_member_purchases, 1);
  EXPECT_TRUE(env.Events().empty());
}

TEST(EraseTest, RemovesPersonalDataKeepsTheLedgerAndFreesTheContact) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  env.core->ApplyBatch({env.Purchase("p1", "m1", 10'000)});
  v1::EraseMemberRequest erase;
  erase.set_member_id("m1");
  erase.set_idempotency_key("e1");
  auto erased = env.core->EraseMember(kTestCaller, erase);
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->member().phone(), "");
  EXPECT_EQ(erased->member().status(), v1::MEMBER_STATUS_ERASED);
  EXPECT_EQ(env.Ledger("m1").size(), 1u);
  auto result = env.core->ApplyBatch({env.Purchase("p2", "m1", 10'000)});
  EXPECT_EQ(result.dead_lettered.at("loyalty.purchases.v1|erased_member"), 1);
  env.Enroll("m2", "+380671234567");  // the phone may enroll again
}

TEST(LedgerTest, PagesNewestFirst) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  std::vector<Input> batch;
  for (int i = 0; i < 20; ++i)
    batch.push_back(env.Purchase("p" + std::to_string(i), "m1", 100 * (i + 1)));
  env.core->ApplyBatch(batch);
  auto ledger = env.Ledger("m1");
  ASSERT_EQ(ledger.size(), 20u);
  for (size_t i = 1; i < ledger.size(); ++i)
    EXPECT_GT(ledger[i - 1].sequence(), ledger[i].sequence());
  v1::ListLedgerRequest bad;
  bad.set_member_id("m1");
  bad.set_page_token("nonsense");
  EXPECT_EQ(env.core->ListLedger(bad).status().code(), Code::kInvalidArgument);
}

TEST(OffsetsTest, StoredWithTheEffectsAndReloaded) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  env.core->ApplyBatch({env.Purchase("p1", "m1", 100), env.Purchase("p2", "m1", 100)});
  env.Restart();
  auto offsets = env.core->StoredOffsets();
  EXPECT_EQ((offsets[{kPurchasesTopic, 0}]), 2);
}

}  // namespace
}  // namespace loyalty::accrual

namespace loyalty::accrual {
namespace {

TEST(AdjustTest, NegativeBeyondAvailableIsRefusedUnlessDebtIsAllowed) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  env.core->ApplyBatch({env.Purchase("p1", "m1", 3'000)});  // 30 points
  v1::AdjustPointsRequest adjust;
  adjust.set_member_id("m1");
  adjust.set_delta(-50);
  adjust.set_reason("referral bonus reversed");
  adjust.set_actor("referral");
  adjust.set_idempotency_key("a1");
  EXPECT_EQ(env.core->AdjustPoints(kTestCaller, adjust).status().code(), Code::kFailedPrecondition);
  adjust.set_allow_debt(true);
  adjust.set_idempotency_key("a2");
  auto entry = env.core->AdjustPoints(kTestCaller, adjust);
  ASSERT_TRUE(entry.ok()) << entry.status().ToString();
  EXPECT_EQ(entry->available_delta(), -30);
  EXPECT_EQ(entry->debt_delta(), 20);
  EXPECT_EQ(env.Balance("m1").debt(), 20);
  env.ExpectLedgerMatchesBalance("m1");
}

}  // namespace
}  // namespace loyalty::accrual

namespace loyalty::accrual {
namespace {

TEST(KpiTest, RepeatPurchasesAndSpendOfMembersAndNonMembers) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  auto result =
      env.core->ApplyBatch({env.Purchase("p1", "m1", 1'000), env.Purchase("p2", "m1", 2'000),
                            env.Purchase("p3", "", 500)});
  EXPECT_EQ(result.purchases_applied, 2);
  EXPECT_EQ(result.repeat_purchases, 1);
  EXPECT_EQ(result.member_spend_minor, 3'000);
  EXPECT_EQ(result.non_member_spend_minor, 500);
}

}  // namespace
}  // namespace loyalty::accrual
