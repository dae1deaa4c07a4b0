// A real store in a temp dir, an outbox, a manual clock and a fake accrual around a
// ReferralCore, plus builders for the accrual events referral reads.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/outbox.h"
#include "common/store.h"
#include "loyalty/v1/events.pb.h"
#include "services/referral/core/referral_core.h"
#include "services/referral/event_decoder.h"
#include "tests/support/fake_accrual.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_caller.h"
#include "tests/support/test_store.h"

namespace loyalty::referral {

using testing::FakeAccrual;

class ReferralTestEnv {
 public:
  explicit ReferralTestEnv(ReferralConfig config = {}) : config_(config) { Open(); }

  void Restart() {
    core.reset();
    outbox.reset();
    store.reset();
    Open();
  }

  // Enrolled `days_ago` days before the clock's now.
  void Enroll(const std::string& id, const std::string& phone, const std::string& email = "",
              int64_t days_ago = 0) {
    v1::Member m;
    m.set_member_id(id);
    m.set_phone(phone);
    m.set_email(email);
    m.set_status(v1::MEMBER_STATUS_ACTIVE);
    m.set_enrolled_at_ms(clock.NowMs() - days_ago * kDayMs);
    accrual.PutMember(m);
  }

  std::string Code(const std::string& member_id) {
    auto code = core->GetReferralCode(member_id);
    EXPECT_TRUE(code.ok()) << code.status().ToString();
    return code.ok() ? code->code() : "";
  }

  StatusOr<v1::Referral> Apply(const std::string& invitee, const std::string& referrer,
                               const std::string& key = "") {
    v1::ApplyReferralRequest request;
    request.set_invitee_id(invitee);
    request.set_code(Code(referrer));
    request.set_idempotency_key(key.empty() ? "apply-" + invitee : key);
    return core->ApplyReferral(kTestCaller, request);
  }

  // A points_earned event as accrual publishes it, with the member's next accrual sequence.
  // release_at_ms > 0: accrual has a return window, the points are pending until then.
  InputMessage Purchase(const std::string& member_id, const std::string& purchase_id,
                        int64_t amount_minor, const std::string& store_id = "store-1",
                        int64_t at_ms = -1, int64_t release_at_ms = 0) {
    v1::LoyaltyEvent event;
    auto* earned = event.mutable_points_earned();
    earned->set_purchase_id(purchase_id);
    earned->set_points(amount_minor / 100);
    earned->set_store_id(store_id);
    earned->mutable_breakdown()->set_amount_minor(amount_minor);
    if (release_at_ms > 0) {
      earned->mutable_breakdown()->set_pending(true);
      earned->mutable_breakdown()->set_release_at_ms(release_at_ms);
    }
    return AccrualEvent(member_id, std::move(event), at_ms);
  }

  InputMessage Refund(const std::string& member_id, const std::string& refund_id,
                      const std::string& purchase_id, int64_t at_ms = -1) {
    v1::LoyaltyEvent event;
    auto* reversed = event.mutable_points_reversed();
    reversed->set_refund_id(refund_id);
    reversed->set_purchase_id(purchase_id);
    return AccrualEvent(member_id, std::move(event), at_ms);
  }

  InputMessage AccrualEvent(const std::string& member_id, v1::LoyaltyEvent event,
                            int64_t at_ms = -1) {
    int64_t seq = ++accrual_seq_[member_id];
    event.set_event_id(member_id + ":" + std::to_string(seq));
    event.set_member_id(member_id);
    event.set_sequence(seq);
    event.set_occurred_at_ms(at_ms < 0 ? clock.NowMs() : at_ms);
    event.set_source_service("accrual");
    return Message(event.SerializeAsString(), member_id);
  }

  InputMessage Message(std::string value, const std::string& key = "k") {
    InputMessage m;
    m.topic = kEventsTopic;
    m.partition = 0;
    m.offset = next_offset_++;
    m.key = key;
    m.value = std::move(value);
    return m;
  }

  // The same message again at a new offset, as after a relay republished it.
  InputMessage Again(const InputMessage& m) { return Message(m.value, m.key); }

  EventBatchResult Feed(std::vector<InputMessage> messages) {
    return core->ApplyEvents(messages, DecodeEvent);
  }

  v1::Referral Get(const std::string& referral_id) {
    auto r = core->GetReferral(referral_id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : v1::Referral();
  }

  std::vector<v1::LoyaltyEvent> Events() {
    std::vector<v1::LoyaltyEvent> events;
    store->Scan(kOutboxCf, "", "", [&](std::string_view, std::string_view value) {
      v1::internal::OutboxRecord record;
      record.ParseFromArray(value.data(), static_cast<int>(value.size()));
      if (record.topic() == kEventsTopic) events.emplace_back().ParseFromString(record.value());
      return true;
    });
    return events;
  }

  std::map<std::string, int64_t> FactCounts() {
    std::lock_guard lock(facts_mu_);
    return facts_;
  }

  testing::TempDir dir;
  ManualClock clock;
  FakeAccrual accrual{clock};
  std::unique_ptr<Store> store;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<ReferralCore> core;

 private:
  void Open() {
    store = testing::OpenStoreOrThrow(dir.path(), ReferralColumnFamilies());
    outbox = std::make_unique<Outbox>(*store);
    core = std::make_unique<ReferralCore>(*store, *outbox, clock, accrual, config_);
    core->SetOnCommit([this](const std::vector<Fact>& facts) {
      std::lock_guard lock(facts_mu_);
      for (const auto& f : facts) facts_[f.kind + (f.label.empty() ? "" : "/" + f.label)] += 1;
    });
  }

  ReferralConfig config_;
  std::map<std::string, int64_t> accrual_seq_;
  int64_t next_offset_ = 0;
  std::mutex facts_mu_;
  std::map<std::string, int64_t> facts_;
};

}  // namespace loyalty::referral
