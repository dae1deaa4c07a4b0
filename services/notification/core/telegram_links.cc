#include "services/notification/core/telegram_links.h"

#include <random>

#include "loyalty/v1/notification_internal.pb.h"
#include "services/notification/core/validation.h"

namespace loyalty::notification {

using v1::notificationinternal::LinkCode;

TelegramLinks::TelegramLinks(const Store& store, const NotificationConfig& config)
    : store_(store), config_(config) {}

StatusOr<v1::TelegramLinkCode> TelegramLinks::CreateCode(Txn& txn, const std::string& member_id,
                                                         TimeMs now) const {
  if (member_id.empty()) return InvalidArgument("member_id: required");
  if (!ValidId(member_id)) return InvalidArgument("member_id: invalid id");
  // 8 digits: easy to type into a chat, 10^8 codes against guessing within the TTL.
  std::random_device rd;
  std::uniform_int_distribution<int> digit(0, 9);
  std::string code;
  for (int i = 0; i < 8; ++i) code.push_back(static_cast<char>('0' + digit(rd)));
  LinkCode record;
  record.set_member_id(member_id);
  record.set_expires_at_ms((now + DurationMs(config_.link_code_ttl_ms)).value());
  txn.Put(cf::kLinkCodes, code, record.SerializeAsString(), /*visible=*/true);
  v1::TelegramLinkCode out;
  out.set_member_id(member_id);
  out.set_code(code);
  out.set_expires_at_ms(record.expires_at_ms());
  return out;
}

StatusOr<MemberId> TelegramLinks::UseCode(Txn& txn, const std::string& code, TimeMs now) const {
  std::string value;
  LinkCode record;
  if (code.empty() || !store_.Get(cf::kLinkCodes, code, &value) || !record.ParseFromString(value)) {
    return NotFound("code: unknown link code");
  }
  if (record.used()) return FailedPrecondition("code: already used");
  if (now.value() >= record.expires_at_ms()) return FailedPrecondition("code: expired");
  record.set_used(true);
  txn.Put(cf::kLinkCodes, code, record.SerializeAsString(), /*visible=*/true);
  return MemberId(record.member_id());
}

void TelegramLinks::LinkChat(Txn& txn, const std::string& chat_id, const MemberId& member) const {
  txn.Put(cf::kChats, chat_id, member.value(), /*visible=*/true);
}

void TelegramLinks::UnlinkChat(Txn& txn, const std::string& chat_id) const {
  txn.Erase(cf::kChats, chat_id);
}

std::optional<MemberId> TelegramLinks::MemberOfChat(const std::string& chat_id) const {
  std::string member_id;
  if (!store_.Get(cf::kChats, chat_id, &member_id)) return std::nullopt;
  return MemberId(member_id);
}

}  // namespace loyalty::notification
