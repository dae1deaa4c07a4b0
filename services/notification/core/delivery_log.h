// The delivery log: every notification by id and by member (newest first for listing), the
// ones still to deliver kept in memory, and a copy of each that died. A notification's
// status only moves forward (queued, then delivered or dead), and an id is created once:
// "<event_id>|<channel>", so an event makes at most one notification per channel.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/notification.pb.h"
#include "services/notification/core/txn.h"
#include "services/notification/core/types.h"

namespace loyalty::notification {

std::string NotificationIdOf(const std::string& event_id, const std::string& channel);
// Moves n to status `to`; aborts (LOYALTY_CHECK) unless n is queued and `to` is final.
void AdvanceStatus(v1::Notification& n, std::string_view to);

// One page of a member's log, newest first: the ids from the store (read without the lock)
// and the token of the next page.
struct LogPage {
  std::vector<std::string> ids;
  std::string next_page_token;  // "" on the last page
};

class DeliveryLog {
 public:
  explicit DeliveryLog(const Store& store);

  // Records a new queued notification in txn: its record and its member-log entry.
  void Add(Txn& txn, const v1::Notification& n) const;
  // Once n is durable: it is pending until it ends.
  void Publish(v1::Notification n);
  // A notification of the queue loaded on start, as it was stored.
  void Restore(v1::Notification n) { pending_[n.notification_id()] = std::move(n); }
  // A notification still to deliver, or null.
  v1::Notification* FindPending(const std::string& id);
  // Writes n's state; once it is final it leaves the pending ones (n is then gone), and a
  // dead one is also copied to the dead letters.
  void Save(Txn& txn, const v1::Notification& n, TimeMs now);
  int64_t pending_count() const { return static_cast<int64_t>(pending_.size()); }

  // Validates the request and reads a page of ids from the store; needs no lock.
  StatusOr<LogPage> ReadPage(const v1::ListNotificationsRequest& request) const;
  // The notifications of a page: pending ones from memory, the rest from the store.
  v1::ListNotificationsResponse Resolve(const LogPage& page) const;
  // A notification from the store (the state last written).
  bool Load(const std::string& id, v1::Notification* n) const;

 private:
  const Store& store_;
  std::map<std::string, v1::Notification> pending_;  // queued or in flight, by id
};

}  // namespace loyalty::notification
