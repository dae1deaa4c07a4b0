#include "services/notification/core/digest_flow.h"

#include "services/notification/core/i18n.h"
#include "services/notification/core/local_zone.h"
#include "services/notification/core/outbound.h"
#include "services/notification/core/policy.h"

namespace loyalty::notification {

Vars DigestVars(const Digest& digest, const std::string& language) {
  std::string items;
  for (const auto& item : digest.items()) items += "• " + item.line() + "\n";
  if (!items.empty()) items.pop_back();
  return Vars{{"member_id", digest.member_id()},
              {"count", std::to_string(digest.items_size())},
              {"count_word", NotificationsWord(language, digest.items_size())},
              {"items", items}};
}

std::string DigestEventId(const Digest& digest) {
  return "digest:" + digest.member_id() + ":" + std::to_string(digest.local_day());
}

int DigestFlow::Flush(Txn& txn, TimeMs now) {
  std::vector<Digest> due = m_.digests.TakeDue(txn, now);
  for (const Digest& digest : due) {
    const v1::Preferences* prefs = m_.prefs.Find(MemberId(digest.member_id()));
    if (prefs == nullptr || digest.items_size() == 0) continue;
    std::string language = m_.prefs.LanguageOf(prefs);
    TimeMs release(ReleaseTime(now.value(), prefs->quiet_hours(), LocalZone::Of(*prefs)));
    QueueMessage(
        m_, txn, *prefs,
        Message{"digest", DigestEventId(digest), DigestVars(digest, language), false, release},
        nullptr);
  }
  return static_cast<int>(due.size());
}

}  // namespace loyalty::notification
