// The size limits of the platform's requests and input messages, defined once: the maximum
// bytes of every string field and the maximum count of every repeated field, by field name,
// with the checks the gRPC handlers and the Kafka decoders run before a core sees a message.
// docs/api.md ("Limits") lists them. Without limits a 1 MB reason became a 1 MB event the
// broker refused, and the relay stalled behind it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace google::protobuf {
class FieldDescriptor;
class Message;
}  // namespace google::protobuf

namespace loyalty {

namespace limits {
inline constexpr size_t kIdBytes = 128;            // every *_id field, segments, SKUs, references
inline constexpr size_t kTextBytes = 1000;         // free text: reasons, notes, descriptions
inline constexpr size_t kMaxEntrants = 1'000'000;  // of a prize draw (gRPC's 4 MB cap first)
inline constexpr size_t kDefaultBytes = 1024;      // a string field the table does not name
inline constexpr size_t kDefaultCount = 1000;      // a repeated field the table does not name
inline constexpr size_t kQuotedPrefixBytes = 64;
inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;
inline constexpr int kMaxNotificationPageSize = 500;  // its entries carry message bodies
}  // namespace limits

// The limit of one field: max_bytes for a string (each element of a repeated string),
// max_count for a repeated field.
struct FieldLimit {
  size_t max_bytes = limits::kDefaultBytes;
  size_t max_count = limits::kDefaultCount;
  bool named = false;  // false: the defaults, because the table does not name the field
};

// The limit of a field: "Message.field" in the table, else "field", else any name ending in
// "_id" (kIdBytes), else the defaults.
FieldLimit LimitOf(const google::protobuf::FieldDescriptor& field);

struct LimitCheck {
  // Unknown values of an open (proto3) enum are refused in requests; events from a newer
  // producer may carry values this build does not know, so their consumers skip this.
  bool enums = true;
};

// Every string, repeated and enum field of message and of the messages inside it, against
// LimitOf. The first field over its limit is INVALID_ARGUMENT naming its path, e.g.
// "campaign.skus[3]: 300 bytes, at most 128"; the value itself is not quoted.
Status CheckFieldLimits(const google::protobuf::Message& message, LimitCheck check = {});

// A value for an error message: itself if short, else its first kQuotedPrefixBytes (cut at a
// UTF-8 character boundary) and "…(N bytes)", so a huge bad value never makes a huge error.
std::string Quote(std::string_view value);

// The one page-size rule of every List method: 0 is kDefaultPageSize, 1..max_size as asked,
// anything else INVALID_ARGUMENT naming page_size.
StatusOr<int> PageSize(int32_t requested, int max_size = limits::kMaxPageSize);

}  // namespace loyalty
