// What a core left in its outbox, read straight from the store, for tests.
#pragma once

#include <string_view>
#include <vector>

#include "common/outbox.h"
#include "common/store.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/internal.pb.h"

namespace loyalty::testing {

// Every record waiting in the outbox, in publishing order.
inline std::vector<v1::internal::OutboxRecord> OutboxRecords(const Store& store) {
  std::vector<v1::internal::OutboxRecord> records;
  store.Scan(kOutboxCf, "", "", [&](std::string_view, std::string_view value) {
    records.emplace_back().ParseFromArray(value.data(), static_cast<int>(value.size()));
    return true;
  });
  return records;
}

// The domain events among them (topic loyalty.events.v1).
inline std::vector<v1::LoyaltyEvent> OutboxEvents(const Store& store) {
  std::vector<v1::LoyaltyEvent> events;
  for (const auto& record : OutboxRecords(store)) {
    if (record.topic() == "loyalty.events.v1")
      events.emplace_back().ParseFromString(record.value());
  }
  return events;
}

}  // namespace loyalty::testing
