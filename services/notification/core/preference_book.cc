#include "services/notification/core/preference_book.h"

#include <algorithm>

#include "common/check.h"
#include "services/notification/core/validation.h"

namespace loyalty::notification {

PreferenceBook::PreferenceBook(const Store& store, const NotificationConfig& config,
                               int64_t cache_bytes)
    : store_(store), config_(config), cache_(cache_bytes) {}

v1::Preferences* PreferenceBook::FindMutable(const std::string& member_id) {
  if (v1::Preferences* cached = cache_.Find(member_id)) return cached;
  std::string value;
  if (member_id.empty() || !store_.Get(cf::kPrefs, member_id, &value)) return nullptr;
  v1::Preferences prefs;
  if (!prefs.ParseFromString(value)) return nullptr;
  return &cache_.Insert(member_id, std::move(prefs), static_cast<int64_t>(value.size()));
}

const v1::Preferences* PreferenceBook::Find(const MemberId& member) {
  return FindMutable(member.value());
}

StatusOr<v1::Preferences> PreferenceBook::Set(Txn& txn, v1::Preferences prefs, TimeMs now) {
  if (prefs.telegram_chat_id().empty()) {
    if (const v1::Preferences* old = FindMutable(prefs.member_id())) {
      prefs.set_telegram_chat_id(old->telegram_chat_id());
    }
  }
  if (Status s = ValidatePreferences(prefs); !s.ok()) return s;
  prefs.set_updated_at_ms(now.value());
  std::string value = prefs.SerializeAsString();
  cache_.Put(prefs.member_id(), prefs, static_cast<int64_t>(value.size()));
  txn.Put(cf::kPrefs, prefs.member_id(), std::move(value), /*visible=*/true);
  return prefs;
}

void PreferenceBook::AttachTelegram(Txn& txn, const MemberId& member, const std::string& chat_id,
                                    TimeMs now) {
  LOYALTY_CHECK(ValidChatId(chat_id), "telegram chat id '" + chat_id + "'");
  v1::Preferences* p = FindMutable(member.value());
  if (p == nullptr) {
    p = &cache_.Insert(member.value(), v1::Preferences(), 0);
    p->set_member_id(member.value());
  }
  p->set_telegram_chat_id(chat_id);
  if (std::find(p->channels().begin(), p->channels().end(), "telegram") == p->channels().end()) {
    p->add_channels("telegram");
  }
  p->set_updated_at_ms(now.value());
  txn.Put(cf::kPrefs, member.value(), p->SerializeAsString(), /*visible=*/true);
  cache_.Written(member.value(), /*ticket=*/0);  // visible: may leave once staged
}

std::string PreferenceBook::Erase(Txn& txn, const MemberId& member) {
  const v1::Preferences* p = FindMutable(member.value());
  if (p == nullptr) return "";
  std::string chat = p->telegram_chat_id();
  cache_.Erase(member.value());
  // Visible, like every write of preferences: a read before it is durable must not find the
  // erased ones in the store and cache them again.
  txn.Erase(cf::kPrefs, member.value(), /*visible=*/true);
  return chat;
}

bool PreferenceBook::Wants(const v1::Preferences* prefs, const std::string& kind) const {
  return prefs != nullptr && prefs->channels_size() > 0 && !config_.disabled_kinds.count(kind) &&
         std::find(prefs->opted_out_kinds().begin(), prefs->opted_out_kinds().end(), kind) ==
             prefs->opted_out_kinds().end();
}

std::string PreferenceBook::LanguageOf(const v1::Preferences* prefs) const {
  return prefs == nullptr || prefs->language().empty() ? config_.default_language
                                                       : prefs->language();
}

}  // namespace loyalty::notification
