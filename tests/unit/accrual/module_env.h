// The accrual modules without the facade: a real store in a temp dir, a manual clock, and
// the member book, timers and ledger wired as AccrualCore wires them.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/outbox.h"
#include "common/store.h"
#include "services/accrual/core/accrual_core.h"
#include "services/accrual/core/ledger.h"
#include "services/accrual/core/member_book.h"
#include "services/accrual/core/timers.h"
#include "tests/support/outbox_reader.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace loyalty::accrual {

class ModuleEnv {
 public:
  explicit ModuleEnv(AccrualConfig config = {}) : config(std::move(config)) {
    store = testing::OpenStoreOrThrow(dir.path(), AccrualColumnFamilies());
    outbox = std::make_unique<Outbox>(*store);
    members = std::make_unique<MemberBook>(*store, this->config.member_cache_bytes);
    timers = std::make_unique<Timers>(*store);
    ledger = std::make_unique<Ledger>(this->config, clock, *timers);
  }

  MemberRecord& NewMember(Txn& txn, const std::string& member_id) {
    MemberRecord& record = members->Create(txn, member_id);
    record.mutable_member()->set_member_id(member_id);
    record.mutable_member()->set_status(v1::MEMBER_STATUS_ACTIVE);
    record.mutable_member()->mutable_balance();
    return record;
  }

  // Makes txn durable, as the core's Stage does for its unit of work and members.
  void Commit(Txn& txn) {
    store->Commit([&](StagedWrite& write) {
      members->WriteDirty(txn, write);
      txn.WriteTo(write, *outbox);
    });
  }

  std::vector<v1::LoyaltyEvent> Events() { return testing::OutboxEvents(*store); }

  std::vector<v1::LedgerEntry> Entries() {
    std::vector<v1::LedgerEntry> entries;
    store->Scan(cf::kLedger, "", "", [&](std::string_view, std::string_view value) {
      entries.emplace_back().ParseFromArray(value.data(), static_cast<int>(value.size()));
      return true;
    });
    return entries;
  }

  testing::TempDir dir;
  ManualClock clock;
  AccrualConfig config;
  std::unique_ptr<Store> store;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<MemberBook> members;
  std::unique_ptr<Timers> timers;
  std::unique_ptr<Ledger> ledger;
};

}  // namespace loyalty::accrual
