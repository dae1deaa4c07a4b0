#include "services/notification/core/delivery_log.h"

#include <algorithm>

#include "common/check.h"
#include "common/field_limits.h"
#include "common/key_codec.h"
#include "loyalty/v1/notification_internal.pb.h"

namespace loyalty::notification {
namespace {

using v1::notificationinternal::NotificationRecord;

std::string MemberLogKey(const std::string& member_id, int64_t created_ms, const std::string& id) {
  std::string key;
  keys::AppendString(key, member_id);
  keys::AppendI64(key, created_ms);
  keys::AppendString(key, id);
  return key;
}

std::string Hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

bool Unhex(const std::string& s, std::string* out) {
  if (s.size() % 2) return false;
  out->clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    auto nib = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = nib(s[i]), lo = nib(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

std::string Serialized(const v1::Notification& n) {
  NotificationRecord record;
  *record.mutable_notification() = n;
  return record.SerializeAsString();
}

bool Final(std::string_view s) { return s == kStatusDelivered || s == kStatusDead; }

}  // namespace

std::string NotificationIdOf(const std::string& event_id, const std::string& channel) {
  return event_id + "|" + channel;
}

void AdvanceStatus(v1::Notification& n, std::string_view to) {
  LOYALTY_CHECK(n.status() == kStatusQueued && Final(to),
                n.notification_id() + ": " + n.status() + " -> " + std::string(to));
  n.set_status(std::string(to));
}

DeliveryLog::DeliveryLog(const Store& store) : store_(store) {}

void DeliveryLog::Add(Txn& txn, const v1::Notification& n) const {
  LOYALTY_CHECK(n.status() == kStatusQueued, n.notification_id() + ": created " + n.status());
  // At most one notification per (event, channel) in a write: the intake dedupes events and
  // a member's channels are distinct.
  LOYALTY_CHECK(txn.created_ids.insert(n.notification_id()).second,
                n.notification_id() + ": created twice");
  txn.Put(cf::kNotifications, n.notification_id(), Serialized(n));
  txn.Put(cf::kMemberLog, MemberLogKey(n.member_id(), n.created_at_ms(), n.notification_id()), "");
}

void DeliveryLog::Publish(v1::Notification n) {
  LOYALTY_CHECK(n.status() == kStatusQueued, n.notification_id() + ": published " + n.status());
  // Not checked against the pending ones: a digest of a local day made again after the
  // member moved their time zone back has the same id, and replaces the first, as it always
  // did.
  pending_[n.notification_id()] = std::move(n);
}

v1::Notification* DeliveryLog::FindPending(const std::string& id) {
  auto it = pending_.find(id);
  return it == pending_.end() ? nullptr : &it->second;
}

void DeliveryLog::Save(Txn& txn, const v1::Notification& n, TimeMs now) {
  std::string record = Serialized(n);
  txn.Put(cf::kNotifications, n.notification_id(), record);
  if (!Final(n.status())) return;
  if (n.status() == kStatusDead) {
    txn.Put(cf::kDeadLetters, keys::EncodeI64(now.value()) + n.notification_id(), record);
  }
  // A copy: n may be the pending entry itself, gone once erased.
  std::string id = n.notification_id();  // NOLINT(performance-unnecessary-copy-initialization)
  pending_.erase(id);                    // n is gone from here on
}

bool DeliveryLog::Load(const std::string& id, v1::Notification* n) const {
  std::string value;
  NotificationRecord record;
  if (!store_.Get(cf::kNotifications, id, &value) || !record.ParseFromString(value)) return false;
  *n = std::move(*record.mutable_notification());
  return true;
}

StatusOr<LogPage> DeliveryLog::ReadPage(const v1::ListNotificationsRequest& request) const {
  if (request.member_id().empty()) return InvalidArgument("member_id: required");
  StatusOr<int> page_size = PageSize(request.page_size(), limits::kMaxNotificationPageSize);
  if (!page_size.ok()) return page_size.status();
  std::string before;
  if (!request.page_token().empty() && !Unhex(request.page_token(), &before)) {
    return InvalidArgument("page_token: malformed");
  }
  std::string prefix;
  keys::AppendString(prefix, request.member_id());
  LogPage page;
  std::string last_key;
  bool more = false;
  store_.ScanBackward(cf::kMemberLog, prefix, before, [&](std::string_view key, std::string_view) {
    if (static_cast<int>(page.ids.size()) == *page_size) {
      more = true;
      return false;
    }
    size_t pos = prefix.size() + 8;
    std::string id;
    keys::ReadString(key, pos, id);
    page.ids.push_back(id);
    last_key = std::string(key);
    return true;
  });
  if (more) page.next_page_token = Hex(last_key);
  return page;
}

v1::ListNotificationsResponse DeliveryLog::Resolve(const LogPage& page) const {
  v1::ListNotificationsResponse response;
  for (const auto& id : page.ids) {
    if (auto it = pending_.find(id); it != pending_.end()) {
      *response.add_notifications() = it->second;
      continue;
    }
    if (v1::Notification n; Load(id, &n)) *response.add_notifications() = std::move(n);
  }
  if (!page.next_page_token.empty()) response.set_next_page_token(page.next_page_token);
  return response;
}

}  // namespace loyalty::notification
