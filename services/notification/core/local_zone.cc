#include "services/notification/core/local_zone.h"

#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <exception>

namespace loyalty::notification {
namespace {

date::sys_seconds SysSeconds(int64_t ms) {
  // Whole seconds, rounded down: zone rules change on whole seconds.
  int64_t seconds = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  return date::sys_seconds{std::chrono::seconds{seconds}};
}

}  // namespace

LocalZone LocalZone::Fixed(int32_t utc_offset_minutes) { return LocalZone(utc_offset_minutes); }

std::optional<LocalZone> LocalZone::Named(const std::string& name) {
  if (name.empty()) return std::nullopt;
  try {
    return LocalZone(date::locate_zone(name));
  } catch (const std::exception&) {  // unknown name, or no tzdata on this machine
    return std::nullopt;
  }
}

LocalZone LocalZone::Of(const v1::Preferences& preferences) {
  if (!preferences.time_zone().empty()) {
    if (auto zone = Named(preferences.time_zone())) return *zone;
  }
  return Fixed(preferences.utc_offset_minutes());
}

int64_t LocalZone::OffsetMsAt(int64_t utc_ms) const {
  if (zone_ == nullptr) return int64_t{fixed_minutes_} * 60'000;
  return static_cast<int64_t>(zone_->get_info(SysSeconds(utc_ms)).offset.count()) * 1000;
}

int64_t LocalZone::ToUtcMs(int64_t local_ms) const {
  if (zone_ == nullptr) return local_ms - OffsetMsAt(0);
  // The offsets in effect half a day either side (no zone changes twice within a day): each
  // gives a candidate instant, valid if local clocks show local_ms then.
  constexpr int64_t kHalfDay = 12 * 3'600'000;
  int64_t guess = local_ms - OffsetMsAt(local_ms);
  int64_t before = local_ms - OffsetMsAt(guess - kHalfDay);
  int64_t after = local_ms - OffsetMsAt(guess + kHalfDay);
  auto shows = [&](int64_t utc) { return utc + OffsetMsAt(utc) == local_ms; };
  if (shows(before) && shows(after)) return std::min(before, after);  // repeated: the first
  if (shows(before)) return before;
  if (shows(after)) return after;
  // Skipped when clocks went forward: as late as the gap is long (03:30 becomes 04:30).
  return std::max(before, after);
}

}  // namespace loyalty::notification
