// A member's local time: an IANA time zone from the system's database (daylight saving
// included) or a fixed offset from UTC. Quiet hours, the local day of the daily cap and the
// dates in messages are read in it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "loyalty/v1/notification.pb.h"

namespace date {
class time_zone;
}

namespace loyalty::notification {

class LocalZone {
 public:
  static LocalZone Fixed(int32_t utc_offset_minutes);
  // nullopt if name is not a zone of the system's time-zone database (tzdata).
  static std::optional<LocalZone> Named(const std::string& name);
  // The member's time_zone if set and known, else utc_offset_minutes.
  static LocalZone Of(const v1::Preferences& preferences);

  // Local time minus UTC at the instant utc_ms.
  int64_t OffsetMsAt(int64_t utc_ms) const;
  int32_t OffsetMinutesAt(int64_t utc_ms) const {
    return static_cast<int32_t>(OffsetMsAt(utc_ms) / 60'000);
  }
  // The instant at which local clocks show local_ms (milliseconds since the local epoch). A
  // time that occurs twice (clocks going back) is its first occurrence; one skipped (clocks
  // going forward) moves later by the length of the gap.
  int64_t ToUtcMs(int64_t local_ms) const;

 private:
  explicit LocalZone(int32_t fixed_minutes) : fixed_minutes_(fixed_minutes) {}
  explicit LocalZone(const date::time_zone* zone) : zone_(zone) {}

  const date::time_zone* zone_ = nullptr;
  int32_t fixed_minutes_ = 0;
};

}  // namespace loyalty::notification
