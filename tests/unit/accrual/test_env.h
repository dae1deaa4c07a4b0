// A real store in a temp dir, an outbox and a manual clock around an AccrualCore.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/outbox.h"
#include "common/store.h"
#include "loyalty/v1/events.pb.h"
#include "services/accrual/core/accrual_core.h"
#include "services/accrual/input_decoder.h"
#include "tests/support/outbox_reader.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_caller.h"
#include "tests/support/test_store.h"

namespace loyalty::accrual {

class AccrualTestEnv {
 public:
  explicit AccrualTestEnv(AccrualConfig config = {}) : config_(std::move(config)) { Open(); }

  // Closes and reopens everything on the same directory, like a restart.
  void Restart() {
    core.reset();
    outbox.reset();
    store.reset();
    Open();
  }

  v1::Member Enroll(const std::string& member_id, const std::string& phone) {
    v1::EnrollMemberRequest request;
    request.set_member_id(member_id);
    request.set_phone(phone);
    request.set_idempotency_key("enroll-" + member_id);
    auto member = core->EnrollMember(kTestCaller, request);
    if (!member.ok()) throw std::runtime_error(member.status().ToString());
    return *member;
  }

  Input Purchase(const std::string& purchase_id, const std::string& member_id, int64_t amount_minor,
                 const std::string& currency = "UAH") {
    return PurchaseOf(MakePurchase(purchase_id, member_id, amount_minor, currency));
  }

  Input PurchaseOf(const v1::PurchaseEvent& purchase) {
    return Message(kPurchasesTopic, purchase.member_id(), purchase.SerializeAsString());
  }

  static v1::PurchaseEvent MakePurchase(const std::string& purchase_id,
                                        const std::string& member_id, int64_t amount_minor,
                                        const std::string& currency = "UAH") {
    v1::PurchaseEvent purchase;
    purchase.set_purchase_id(purchase_id);
    purchase.set_member_id(member_id);
    purchase.set_amount_minor(amount_minor);
    purchase.set_currency(currency);
    purchase.set_store_id("store-1");
    return purchase;
  }

  Input Refund(const std::string& refund_id, const std::string& purchase_id,
               const std::string& member_id, int64_t amount_minor) {
    v1::RefundEvent refund;
    refund.set_refund_id(refund_id);
    refund.set_purchase_id(purchase_id);
    refund.set_member_id(member_id);
    refund.set_amount_minor(amount_minor);
    return Message(kRefundsTopic, member_id, refund.SerializeAsString());
  }

  // A consumed record of topic, decoded as the Kafka adapter does.
  Input Message(const std::string& topic, const std::string& key, std::string value) {
    InputMessage m;
    m.topic = topic;
    m.partition = 0;
    m.offset = next_offset_[topic]++;
    m.key = key;
    m.value = std::move(value);
    return DecodeInput(std::move(m));
  }

  v1::Balance Balance(const std::string& member_id) {
    auto b = core->GetBalance(member_id);
    if (!b.ok()) throw std::runtime_error(b.status().ToString());
    return b->balance();
  }

  // Every record waiting in the outbox, in order.
  std::vector<v1::internal::OutboxRecord> OutboxRecords() { return testing::OutboxRecords(*store); }

  std::vector<v1::LoyaltyEvent> Events() { return testing::OutboxEvents(*store); }

  std::vector<v1::LedgerEntry> Ledger(const std::string& member_id) {
    std::vector<v1::LedgerEntry> all;
    std::string token;
    do {
      v1::ListLedgerRequest request;
      request.set_member_id(member_id);
      request.set_page_size(7);
      request.set_page_token(token);
      auto page = core->ListLedger(request);
      if (!page.ok()) throw std::runtime_error(page.status().ToString());
      for (const auto& e : page->entries()) all.push_back(e);
      token = page->next_page_token();
    } while (!token.empty());
    return all;
  }

  // The ledger's deltas summed must give the member's balances.
  void ExpectLedgerMatchesBalance(const std::string& member_id) {
    int64_t available = 0, held = 0, debt = 0, pending = 0;
    for (const auto& e : Ledger(member_id)) {
      available += e.available_delta();
      held += e.held_delta();
      debt += e.debt_delta();
      pending += e.pending_delta();
    }
    v1::Balance b = Balance(member_id);
    EXPECT_EQ(available, b.available()) << member_id;
    EXPECT_EQ(held, b.held()) << member_id;
    EXPECT_EQ(debt, b.debt()) << member_id;
    EXPECT_EQ(pending, b.pending()) << member_id;
    EXPECT_GE(b.available(), 0);
    EXPECT_GE(b.held(), 0);
    EXPECT_GE(b.debt(), 0);
    EXPECT_GE(b.pending(), 0);
  }

  testing::TempDir dir;
  ManualClock clock;
  std::unique_ptr<Store> store;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<AccrualCore> core;

 private:
  void Open() {
    store = testing::OpenStoreOrThrow(dir.path(), AccrualColumnFamilies());
    outbox = std::make_unique<Outbox>(*store);
    core = std::make_unique<AccrualCore>(*store, *outbox, clock, config_);
  }

  AccrualConfig config_;
  std::map<std::string, int64_t> next_offset_;
};

}  // namespace loyalty::accrual
