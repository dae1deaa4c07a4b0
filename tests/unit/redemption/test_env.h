// A real store in a temp dir, an outbox, a manual clock and the fake accrual around a
// RedemptionCore; Restart() reopens everything on the same directory like a process restart.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/outbox.h"
#include "common/store.h"
#include "loyalty/v1/events.pb.h"
#include "services/redemption/core/redemption_core.h"
#include "tests/support/fake_accrual.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_caller.h"
#include "tests/support/test_store.h"

namespace loyalty::redemption {

using testing::FakeAccrual;

class CountingObserver : public RedemptionObserver {
 public:
  void RedemptionFinished(v1::RewardKind, const std::string& outcome, int64_t) override {
    std::lock_guard lock(mu);
    ++finished[outcome];
  }
  void SagaStepRetried(const std::string& step) override {
    std::lock_guard lock(mu);
    ++retried[step];
  }
  void VouchersIssued(int64_t n) override {
    std::lock_guard lock(mu);
    issued += n;
  }
  std::mutex mu;
  std::map<std::string, int> finished, retried;
  int64_t issued = 0;
};

class RedemptionTestEnv {
 public:
  explicit RedemptionTestEnv(RedemptionConfig config = {}) : accrual(clock), config_(config) {
    Open();
  }

  void Restart() {
    core.reset();
    outbox.reset();
    store.reset();
    Open();
  }

  v1::Reward CreateReward(v1::Reward reward) {
    v1::CreateRewardRequest request;
    *request.mutable_reward() = std::move(reward);
    request.set_idempotency_key("create-" + std::to_string(next_key_++));
    auto created = core->CreateReward(kTestCaller, request);
    if (!created.ok()) throw std::runtime_error(created.status().ToString());
    return *created;
  }

  static v1::Reward GiftCard(const std::string& id, int64_t price, int64_t stock) {
    v1::Reward r;
    r.set_reward_id(id);
    r.set_name("Gift card " + id);
    r.set_kind(v1::REWARD_KIND_GIFT_CARD);
    r.mutable_gift_card()->set_value_minor(10000);
    r.set_points_price(price);
    r.set_stock_total(stock);
    r.set_unlimited_stock(stock < 0);
    r.set_active(true);
    return r;
  }

  static v1::RedeemRequest RedeemRequest(const std::string& member, const std::string& reward,
                                         int64_t quantity, const std::string& key) {
    v1::RedeemRequest request;
    request.set_member_id(member);
    request.set_reward_id(reward);
    request.set_quantity(quantity);
    request.set_idempotency_key(key);
    return request;
  }

  StatusOr<v1::Redemption> Redeem(const std::string& member, const std::string& reward,
                                  int64_t quantity, const std::string& key) {
    return core->Redeem(kTestCaller, RedeemRequest(member, reward, quantity, key));
  }

  // The same through RedeemAsync, waiting here for its answer (given on the store's thread).
  StatusOr<v1::Redemption> RedeemAsync(const std::string& member, const std::string& reward,
                                       int64_t quantity, const std::string& key) {
    auto answer = std::make_shared<std::promise<StatusOr<v1::Redemption>>>();
    auto answered = answer->get_future();
    core->RedeemAsync(kTestCaller, RedeemRequest(member, reward, quantity, key),
                      [answer](StatusOr<v1::Redemption> r) { answer->set_value(r); });
    if (answered.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      return Status(Code::kInternal, "RedeemAsync never answered");
    }
    return answered.get();
  }

  std::vector<v1::LoyaltyEvent> Events() {
    std::vector<v1::LoyaltyEvent> events;
    store->Scan(kOutboxCf, "", "", [&](std::string_view, std::string_view value) {
      v1::internal::OutboxRecord record;
      record.ParseFromArray(value.data(), static_cast<int>(value.size()));
      events.emplace_back().ParseFromString(record.value());
      return true;
    });
    return events;
  }

  testing::TempDir dir;
  ManualClock clock;
  FakeAccrual accrual;
  CountingObserver observer;
  std::unique_ptr<Store> store;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<RedemptionCore> core;

 private:
  void Open() {
    store = testing::OpenStoreOrThrow(dir.path(), RedemptionColumnFamilies());
    outbox = std::make_unique<Outbox>(*store);
    core = std::make_unique<RedemptionCore>(*store, *outbox, clock, accrual, config_, &observer);
  }

  RedemptionConfig config_;
  int next_key_ = 0;
};

}  // namespace loyalty::redemption
