// Linking a Telegram chat to a member: one-time codes (a member asks for one, then sends it
// to the bot from the chat) and the index of linked chats, which the bot reads to know whom
// it talks to.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/notification.pb.h"
#include "services/notification/core/notification_config.h"
#include "services/notification/core/txn.h"
#include "services/notification/core/types.h"

namespace loyalty::notification {

class TelegramLinks {
 public:
  TelegramLinks(const Store& store, const NotificationConfig& config);

  // A new code for member_id, valid for link_code_ttl_ms.
  StatusOr<v1::TelegramLinkCode> CreateCode(Txn& txn, const std::string& member_id,
                                            TimeMs now) const;
  // Uses a code once: NOT_FOUND if unknown, FAILED_PRECONDITION if used or expired. Returns
  // the member it was made for.
  StatusOr<MemberId> UseCode(Txn& txn, const std::string& code, TimeMs now) const;
  void LinkChat(Txn& txn, const std::string& chat_id, const MemberId& member) const;
  void UnlinkChat(Txn& txn, const std::string& chat_id) const;
  // Reads the store only: needs no lock.
  std::optional<MemberId> MemberOfChat(const std::string& chat_id) const;

 private:
  const Store& store_;
  const NotificationConfig& config_;
};

}  // namespace loyalty::notification
