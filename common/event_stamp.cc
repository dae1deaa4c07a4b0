#include "common/event_stamp.h"

namespace loyalty {

v1::internal::OutboxRecord StampEvent(const EventSource& source, int64_t& last_sequence,
                                      const std::string& member_id, int64_t now_ms,
                                      const std::string& principal, v1::LoyaltyEvent& event) {
  int64_t sequence = ++last_sequence;
  event.set_event_id(source.id_prefix + member_id + ":" + std::to_string(sequence));
  event.set_member_id(member_id);
  event.set_sequence(sequence);
  event.set_occurred_at_ms(now_ms);
  event.set_source_service(source.service);
  event.set_principal(principal);
  v1::internal::OutboxRecord record;
  record.set_topic(kEventsTopic);
  record.set_key(member_id);
  record.set_value(event.SerializeAsString());
  return record;
}

}  // namespace loyalty
