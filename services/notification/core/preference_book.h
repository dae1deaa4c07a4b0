// Members' preferences: channels and their addresses, opted-out kinds, language, time zone,
// quiet hours and daily cap. Read from the store on first use and kept in a bounded cache;
// written visibly, so that a concurrent call finds them before the write is durable (and a
// record may leave the cache as soon as its transaction is staged).
#pragma once

#include <cstdint>
#include <string>

#include "common/record_cache.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/notification.pb.h"
#include "services/notification/core/notification_config.h"
#include "services/notification/core/txn.h"
#include "services/notification/core/types.h"

namespace loyalty::notification {

class PreferenceBook {
 public:
  // cache_bytes: the budget of preferences kept in memory.
  PreferenceBook(const Store& store, const NotificationConfig& config, int64_t cache_bytes);

  // The member's preferences, or null if they set none (or were erased). Valid until the
  // next Trim.
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

  // Lets preferences over the budget go; only where no pointer from Find is held.
  void Trim() { cache_.Trim(store_.durable_ticket()); }
  const RecordCacheStats& cache_stats() const { return cache_.stats(); }

 private:
  v1::Preferences* FindMutable(const std::string& member_id);

  const Store& store_;
  const NotificationConfig& config_;
  RecordCache<v1::Preferences> cache_;  // by member id
};

}  // namespace loyalty::notification
