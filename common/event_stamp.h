// Per-member domain events: each service numbers a member's events 1, 2, 3... (the
// sequence consumers use to spot gaps and order), names them uniquely across services,
// and publishes them on loyalty.events.v1 keyed by member, so a member's events stay in
// order on one partition.
#pragma once

#include <cstdint>
#include <string>

#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/internal.pb.h"

namespace loyalty {

inline constexpr char kEventsTopic[] = "loyalty.events.v1";

struct EventSource {
  std::string service;    // source_service of the events
  std::string id_prefix;  // before "<member>:<sequence>" in event ids ("" for accrual)
};

// Gives event the member's next sequence (advancing last_sequence, kept in the member's
// record), its id, time, source and the principal of the call that caused it (empty for the
// service's own work), and returns the outbox record that publishes it.
v1::internal::OutboxRecord StampEvent(const EventSource& source, int64_t& last_sequence,
                                      const std::string& member_id, int64_t now_ms,
                                      const std::string& principal, v1::LoyaltyEvent& event);

}  // namespace loyalty
