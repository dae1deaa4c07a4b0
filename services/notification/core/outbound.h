// A message for a member becomes notifications: one per channel of theirs that has an
// address, each rendered from the template in effect for (kind, channel, language), then
// recorded in the delivery log and queued for its due time in the same transaction.
#pragma once

#include <string>
#include <vector>

#include "loyalty/v1/notification.pb.h"
#include "services/notification/core/commands.h"
#include "services/notification/core/modules.h"
#include "services/notification/core/templates.h"
#include "services/notification/core/txn.h"
#include "services/notification/core/types.h"

namespace loyalty::notification {

// What to tell a member, before it is rendered per channel.
struct Message {
  std::string kind;
  std::string event_id;  // of the event, or the digest's own
  Vars vars;
  bool transactional = false;  // ignores quiet hours and the daily cap
  TimeMs due;                  // first attempt
};

// The queued notifications of message, in the order of the member's channels. Pure.
std::vector<v1::Notification> Compose(const Message& message, const v1::Preferences& prefs,
                                      const std::string& language, const TemplateSet& templates,
                                      TimeMs now);
// Composes message and records and queues its notifications in txn; dispatchers see them once
// txn is durable. Counts them in result if given.
void QueueMessage(Modules& m, Txn& txn, const v1::Preferences& prefs, const Message& message,
                  BatchResult* result);

}  // namespace loyalty::notification
