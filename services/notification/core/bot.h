// The balance bot's logic: a Telegram message in, the reply text out. A chat is linked to a
// member with a one-time code (CreateTelegramLinkCode); a linked member asks /balance,
// /history and /rewards and is answered in their language from accrual. No HTTP here: the
// webhook adapter parses the update and sends the reply.
#pragma once

#include <string>

#include "common/accrual_client.h"
#include "services/notification/core/notification_core.h"

namespace loyalty::notification {

class BalanceBot {
 public:
  // accrual may be null (not configured): balance questions are then answered as unavailable.
  BalanceBot(NotificationCore& core, AccrualClient* accrual) : core_(core), accrual_(accrual) {}

  // The reply to text from chat_id.
  std::string Handle(const std::string& chat_id, const std::string& text);

 private:
  NotificationCore& core_;
  AccrualClient* accrual_;
};

}  // namespace loyalty::notification
