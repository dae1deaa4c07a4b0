// Notification's named types, the column families it keeps with the module that owns each
// (docs/architecture.md has the map), and the statuses of a notification.
#pragma once

#include <cstddef>
#include <string>

#include "common/field_limits.h"
#include "common/named_type.h"

namespace loyalty::notification {

using loyalty::DurationMs;
using loyalty::MemberId;
using loyalty::TimeMs;

namespace cf {
inline constexpr char kPrefs[] = "prefs";                  // PreferenceBook
inline constexpr char kNotifications[] = "notifications";  // DeliveryLog (by id)
inline constexpr char kMemberLog[] = "member_log";         // DeliveryLog (member, created, id)
inline constexpr char kDeadLetters[] = "dead_letters";     // DeliveryLog (dead notifications)
inline constexpr char kQueue[] = "queue";                  // DispatchQueue (channel, due, id)
inline constexpr char kSeen[] = "seen_events";             // EventIntake (dedupe by event id)
inline constexpr char kDayCounts[] = "day_counts";         // DailyCaps (member, local day)
inline constexpr char kDigests[] = "digests";              // DigestBook (by member)
inline constexpr char kTemplates[] = "templates";          // TemplateBook (replacements)
inline constexpr char kLinkCodes[] = "tg_codes";           // TelegramLinks (code -> member)
inline constexpr char kChats[] = "tg_chats";               // TelegramLinks (chat -> member)
inline constexpr char kIdempotency[] = "idempotency";      // common/idempotent.h
inline constexpr char kOffsets[] = "offsets";              // the batch: next offset per partition
}  // namespace cf

// A notification's status moves forward only: queued, then delivered or dead (final).
inline constexpr char kStatusQueued[] = "queued";
inline constexpr char kStatusDelivered[] = "delivered";
inline constexpr char kStatusDead[] = "dead";

// Ids (member ids, link-code member ids) are short printable strings.
inline constexpr size_t kMaxIdLength = limits::kIdBytes;  // common/field_limits.h

}  // namespace loyalty::notification
