// Members' preferences: channels and their addresses, opted-out kinds, language, time zone,
// quiet hours and daily cap. Loaded from the store on first use and kept; written visibly,
// so that a concurrent call finds them before the write is durable.
#pragma once

#include <string>
#include <unordered_map>

#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/notification.pb.h"
#include "services/notification/core/notification_config.h"
#include "services/notification/core/txn.h"
#include "services/notification/core/types.h"

namespace loyalty::notification {

class PreferenceBook {
 public:
  PreferenceBook(const Store& store, const NotificationConfig& config);

  // The member's preferences, or null if they set none (or were erased).
  const v1::Preferences* Find(const MemberId& member);
  // Validates and saves prefs. The chat id comes from linking through the bot: prefs without
  // one keep the linked chat.
  StatusOr<v1::Preferences> Set(Txn& txn, v1::Preferences prefs, TimeMs now);
  // Makes chat_id the member's telegram address and enables the channel; a member without
  // preferences gets some with telegram only.
  void AttachTelegram(Txn& txn, const MemberId& member, const std::string& chat_id, TimeMs now);
  // Forgets the member's preferences (personal data); returns the telegram chat they had
  // linked, "" if none.
  std::string Erase(Txn& txn, const MemberId& member);

  // Whether a member with prefs is told about kind: some channel, not opted out, and the
  // kind not disabled for the whole program.
  bool Wants(const v1::Preferences* prefs, const std::string& kind) const;
  // The member's language, else the configured default.
  std::string LanguageOf(const v1::Preferences* prefs) const;

 private:
  v1::Preferences* FindMutable(const std::string& member_id);

  const Store& store_;
  const NotificationConfig& config_;
  std::unordered_map<std::string, v1::Preferences> prefs_;  // by member id
};

}  // namespace loyalty::notification
