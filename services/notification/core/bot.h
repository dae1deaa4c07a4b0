// The balance bot's logic: a Telegram message in, the reply text out. A chat is linked to a
// member with a one-time code (CreateTelegramLinkCode); a linked member asks /balance,
// /history and /rewards and is answered in their language from accrual (balance, history) and
// redemption (rewards). No HTTP here: the webhook adapter parses the update and sends the reply.
#pragma once

#include <string>

#include "common/accrual_client.h"
#include "services/notification/core/notification_core.h"
#include "services/notification/core/redemption_client.h"

namespace loyalty::notification {

class BalanceBot {
 public:
  // accrual may be null (not configured): balance questions are then answered as unavailable;
  // redemption may be null: /rewards then says the catalog is not available.
  BalanceBot(NotificationCore& core, AccrualClient* accrual, RedemptionClient* redemption = nullptr)
      : core_(core), accrual_(accrual), redemption_(redemption) {}

  // The reply to text from chat_id.
  std::string Handle(const std::string& chat_id, const std::string& text);

 private:
  NotificationCore& core_;
  AccrualClient* accrual_;
  RedemptionClient* redemption_;
};

}  // namespace loyalty::notification
