// RunIdempotent, the idempotent call every core makes, against a real store: a first call is
// applied and remembered, a retry answers the first response, another request under the same
// key and a bad key are refused, refusals are judged again.
#include "common/idempotent.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "loyalty/v1/accrual.pb.h"
#include "loyalty/v1/internal.pb.h"
#include "tests/support/temp_dir.h"

namespace loyalty {
namespace {

// The shape of a core's transaction, as RunIdempotent uses it.
struct FakeTxn {
  struct Op {
    std::string cf, key, value;
    bool visible;
  };
  std::vector<Op> ops;
  std::string principal;
  void Put(const char* cf, std::string key, std::string value, bool visible = false) {
    ops.push_back({cf, std::move(key), std::move(value), visible});
  }
};

class IdempotentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::Open(dir.path(), {kIdempotencyColumnFamily, "balances"});
    ASSERT_TRUE(opened.ok());
    store = std::move(*opened);
  }

  // Awards points to a member: applied is counted, the refusal is for a negative amount.
  IdempotentOutcome<v1::LedgerEntry, FakeTxn> Award(
      int64_t points, const std::string& key, const Principal& caller = AnonymousPrincipal()) {
    v1::AwardPointsRequest request;
    request.set_member_id("m1");
    request.set_points(points);
    request.set_idempotency_key(key);
    auto outcome = RunIdempotent<v1::internal::IdempotencyRecord, v1::LedgerEntry, FakeTxn>(
        *store, mu, now_ms, "AwardPoints", caller, request, key,
        [&](FakeTxn& txn) -> StatusOr<v1::LedgerEntry> {
          if (points < 0) return InvalidArgument("points: must not be negative");
          ++applied;
          v1::LedgerEntry entry;
          entry.set_sequence(applied);
          entry.set_available_delta(points);
          txn.Put("balances", "m1", std::to_string(points));
          return entry;
        },
        [&](FakeTxn& txn) {
          return store->Stage([&](StagedWrite& write) {
            for (const auto& op : txn.ops) {
              if (op.visible) {
                write.PutVisible(op.cf, op.key, op.value);
              } else {
                write.Put(op.cf, op.key, op.value);
              }
            }
          });
        });
    if (outcome.ticket != 0) store->WaitDurable(outcome.ticket);
    return outcome;
  }

  testing::TempDir dir;
  std::unique_ptr<Store> store;
  std::mutex mu;
  int64_t now_ms = 1'000'000'000'000;
  int applied = 0;
};

TEST_F(IdempotentTest, ARetryGetsTheFirstResponseAndAppliesNothing) {
  auto first = Award(100, "k1");
  ASSERT_TRUE(first.result.ok());
  EXPECT_EQ(first.result->sequence(), 1);
  ASSERT_EQ(first.txn.ops.size(), 2u);  // the change and its record, the record visible
  EXPECT_EQ(first.txn.ops[1].cf, kIdempotencyColumnFamily);
  EXPECT_TRUE(first.txn.ops[1].visible);

  auto retry = Award(100, "k1");
  ASSERT_TRUE(retry.result.ok());
  EXPECT_EQ(retry.result->sequence(), 1);
  EXPECT_NE(retry.ticket, 0u);  // still answered only once durable
  EXPECT_TRUE(retry.txn.ops.empty());
  EXPECT_EQ(applied, 1);
}

TEST_F(IdempotentTest, TheSameKeyFromAnotherPrincipalIsAnotherCall) {
  const Principal alice("spiffe://loyalty/till/a"), bob("apikey:bob");
  auto first = Award(100, "k1", alice);
  ASSERT_TRUE(first.result.ok());
  EXPECT_EQ(first.txn.principal, alice.value());
  // Bob's key is his own: neither refused as a reuse nor answered with Alice's entry.
  auto other = Award(200, "k1", bob);
  ASSERT_TRUE(other.result.ok()) << other.result.status().message();
  EXPECT_EQ(other.result->available_delta(), 200);
  EXPECT_EQ(applied, 2);
  auto bob_again = Award(200, "k1", bob);
  ASSERT_TRUE(bob_again.result.ok());
  EXPECT_EQ(bob_again.result->sequence(), other.result->sequence());
  EXPECT_EQ(Award(300, "k1", alice).result.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(applied, 2);
}

TEST_F(IdempotentTest, AnotherRequestUnderTheSameKeyIsRefused) {
  ASSERT_TRUE(Award(100, "k1").result.ok());
  auto other = Award(200, "k1");
  EXPECT_EQ(other.result.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(other.result.status().message().rfind("idempotency_key:", 0), 0u);
  EXPECT_EQ(other.ticket, 0u);
  EXPECT_EQ(applied, 1);
}

TEST_F(IdempotentTest, BadKeysAreRefusedAndRefusalsAreNotRemembered) {
  EXPECT_EQ(Award(1, "").result.status().message(), "idempotency_key: required");
  EXPECT_EQ(Award(1, std::string(257, 'k')).result.status().code(), Code::kInvalidArgument);
  auto refused = Award(-1, "k2");
  EXPECT_EQ(refused.result.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(refused.ticket, 0u);
  std::string value;
  EXPECT_FALSE(store->Get(kIdempotencyColumnFamily,
                          IdempotencyRecordKey("AwardPoints", AnonymousPrincipal(), "k2"), &value));
  EXPECT_EQ(applied, 0);
}

TEST_F(IdempotentTest, RecordsOlderThanTheRetentionAreSweptAndTheKeyIsNewAgain) {
  constexpr int64_t kDay = 86'400'000;
  ASSERT_TRUE(Award(100, "old").result.ok());
  now_ms += 10 * kDay;
  ASSERT_TRUE(Award(100, "recent").result.ok());
  // A record from before records carried a time: stamped by the first sweep, kept.
  v1::internal::IdempotencyRecord legacy;
  legacy.set_request("r");
  legacy.set_response("x");
  store->Commit([&](StagedWrite& w) {
    w.Put(kIdempotencyColumnFamily,
          IdempotencyRecordKey("AwardPoints", AnonymousPrincipal(), "legacy"),
          legacy.SerializeAsString());
  });

  EXPECT_EQ(SweepIdempotencyRecords<v1::internal::IdempotencyRecord>(*store, now_ms, 5 * kDay), 1);
  std::string value;
  EXPECT_FALSE(store->Get(kIdempotencyColumnFamily,
                          IdempotencyRecordKey("AwardPoints", AnonymousPrincipal(), "old"),
                          &value));
  EXPECT_TRUE(store->Get(kIdempotencyColumnFamily,
                         IdempotencyRecordKey("AwardPoints", AnonymousPrincipal(), "recent"),
                         &value));
  ASSERT_TRUE(store->Get(kIdempotencyColumnFamily,
                         IdempotencyRecordKey("AwardPoints", AnonymousPrincipal(), "legacy"),
                         &value));
  legacy.ParseFromString(value);
  EXPECT_EQ(legacy.created_at_ms(), now_ms);

  // A retry after the retention is a new call; within it, the first answer.
  EXPECT_EQ(Award(100, "old").result->sequence(), 3);
  EXPECT_EQ(Award(100, "recent").result->sequence(), 2);
  EXPECT_EQ(applied, 3);
  // Nothing is due yet: the sweep deletes nothing more.
  EXPECT_EQ(SweepIdempotencyRecords<v1::internal::IdempotencyRecord>(*store, now_ms, 5 * kDay), 0);
}

}  // namespace
}  // namespace loyalty
