// The referral modules without the facade: a real store in a temp dir, a manual clock, and
// the member and referral books wired as ReferralCore wires them.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/outbox.h"
#include "common/store.h"
#include "services/referral/core/member_book.h"
#include "services/referral/core/referral_book.h"
#include "services/referral/core/referral_core.h"
#include "tests/support/outbox_reader.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace loyalty::referral {

class ModuleEnv {
 public:
  explicit ModuleEnv(ReferralConfig config = {}) : config(config) { Open(); }

  // Drops every module and reopens the store: what was committed is all that is left.
  void Reopen() {
    referrals.reset();
    members.reset();
    outbox.reset();
    store.reset();
    Open();
  }

  // A PENDING referral of invitee by referrer, as Attribution creates it.
  v1::Referral& NewReferral(Txn& txn, const std::string& id, const std::string& referrer,
                            const std::string& invitee, int64_t invitee_points = 250) {
    v1::Referral r;
    r.set_referral_id(id);
    r.set_referrer_id(referrer);
    r.set_invitee_id(invitee);
    r.set_applied_at_ms(clock.NowMs());
    r.set_status(v1::REFERRAL_STATUS_PENDING);
    r.mutable_referrer()->set_member_id(referrer);
    r.mutable_referrer()->set_points(500);
    r.mutable_invitee()->set_member_id(invitee);
    r.mutable_invitee()->set_points(invitee_points);
    v1::Referral& created = referrals->Create(txn, std::move(r));
    referrals->Touch(txn, created);
    return created;
  }

  // Makes txn durable, as the core's Stage does for its unit of work and books.
  void Commit(Txn& txn) {
    store->Commit([&](StagedWrite& write) {
      members->WriteDirty(txn, write);
      referrals->WriteDirty(txn, write);
      txn.WriteTo(write, *outbox);
    });
  }

  std::vector<v1::LoyaltyEvent> Events() { return testing::OutboxEvents(*store); }
  bool Has(std::string_view cf, const std::string& key) {
    std::string ignored;
    return store->Get(cf, key, &ignored);
  }

  testing::TempDir dir;
  ManualClock clock;
  ReferralConfig config;
  std::unique_ptr<Store> store;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<MemberBook> members;
  std::unique_ptr<ReferralBook> referrals;

 private:
  void Open() {
    store = testing::OpenStoreOrThrow(dir.path(), ReferralColumnFamilies());
    outbox = std::make_unique<Outbox>(*store);
    members = std::make_unique<MemberBook>(*store, clock, config.member_cache_bytes);
    referrals =
        std::make_unique<ReferralBook>(*store, clock, *members, config.referral_cache_bytes);
  }
};

}  // namespace loyalty::referral
