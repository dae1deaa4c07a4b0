#include "services/notification/core/preference_book.h"

#include <algorithm>

#include "common/check.h"
#include "services/notification/core/validation.h"

namespace loyalty::notification {

PreferenceBook::PreferenceBook(const Store& store, const NotificationConfig& config)
    : store_(store), config_(config) {}

v1::Preferences* PreferenceBook::FindMutable(const std::string& member_id) {
  if (auto it = prefs_.find(member_id); it != prefs_.end()) return &it->second;
  std::string value;
  if (member_id.empty() || !store_.Get(cf::kPrefs, member_id, &value)) return nullptr;
  v1::Preferences& slot = prefs_[member_id];
  if (!slot.ParseFromString(value)) {
    prefs_.erase(member_id);
    return nullptr;
  }
  return &slot;
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
  prefs_[prefs.member_id()] = prefs;
  txn.Put(cf::kPrefs, prefs.member_id(), prefs.SerializeAsString(), /*visible=*/true);
  return prefs;
}

void PreferenceBook::AttachTelegram(Txn& txn, const MemberId& member, const std::string& chat_id,
                                    TimeMs now) {
  LOYALTY_CHECK(ValidChatId(chat_id), "telegram chat id '" + chat_id + "'");
  v1::Preferences* p = FindMutable(member.value());
  if (p == nullptr) {
    p = &prefs_[member.value()];
    p->set_member_id(member.value());
  }
  p->set_telegram_chat_id(chat_id);
  if (std::find(p->channels().begin(), p->channels().end(), "telegram") == p->channels().end()) {
    p->add_channels("telegram");
  }
  p->set_updated_at_ms(now.value());
  txn.Put(cf::kPrefs, member.value(), p->SerializeAsString(), /*visible=*/true);
}

std::string PreferenceBook::Erase(Txn& txn, const MemberId& member) {
  const v1::Preferences* p = FindMutable(member.value());
  if (p == nullptr) return "";
  std::string chat = p->telegram_chat_id();
  prefs_.erase(member.value());
  txn.Erase(cf::kPrefs, member.value());
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
