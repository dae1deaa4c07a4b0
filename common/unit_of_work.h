// The changes of one call or one batch of a core: store writes and outbox records, made
// durable together in one staged group (common/store.h). A core collects its changes here
// while it holds its lock and stages them once; records it keeps in memory are written
// through its own dirty sets, by the core's Stage, beside these.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/outbox.h"
#include "common/store.h"
#include "loyalty/v1/internal.pb.h"

namespace loyalty {

class UnitOfWork {
 public:
  // visible: Store::Get sees the value before the group is durable (for records that a
  // concurrent caller must find at once, e.g. idempotency keys).
  void Put(std::string_view cf, std::string key, std::string value, bool visible = false) {
    ops_.push_back({cf, std::move(key), std::move(value), visible, false});
  }
  void Erase(std::string_view cf, std::string key, bool visible = false) {
    ops_.push_back({cf, std::move(key), "", visible, true});
  }
  // A message to publish, in this order, once the group is durable.
  void Publish(v1::internal::OutboxRecord record) { outbox_.push_back(std::move(record)); }

  // Writes the ops in the order they were made, then the outbox records.
  void WriteTo(StagedWrite& write, Outbox& outbox) const;
  bool empty() const { return ops_.empty() && outbox_.empty(); }
  size_t published() const { return outbox_.size(); }

  // The principal of the call this work is for (common/principal.h), recorded in its ledger
  // entries, events and audit records; empty for the service's own work (input messages,
  // timers).
  std::string principal;

 private:
  struct Op {
    std::string_view cf;  // a column family name constant
    std::string key;
    std::string value;
    bool visible;
    bool erase;
  };
  std::vector<Op> ops_;
  std::vector<v1::internal::OutboxRecord> outbox_;
};

inline void UnitOfWork::WriteTo(StagedWrite& write, Outbox& outbox) const {
  for (const auto& op : ops_) {
    if (op.erase && op.visible) {
      write.DeleteVisible(op.cf, op.key);
    } else if (op.erase) {
      write.Delete(op.cf, op.key);
    } else if (op.visible) {
      write.PutVisible(op.cf, op.key, op.value);
    } else {
      write.Put(op.cf, op.key, op.value);
    }
  }
  for (const auto& record : outbox_) outbox.Add(write, record);
}

}  // namespace loyalty
