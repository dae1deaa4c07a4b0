#include "services/notification/core/digest_book.h"

#include "common/check.h"

namespace loyalty::notification {

DigestBook::DigestBook(const Store& store) {
  store.Scan(cf::kDigests, "", "", [&](std::string_view key, std::string_view value) {
    Digest d;
    if (d.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      digests_[std::string(key)] = d;
    }
    return true;
  });
}

void DigestBook::Add(Txn& txn, const MemberId& member, int64_t day, TimeMs flush_at,
                     DigestItem item) {
  Digest& digest = digests_[member.value()];
  if (digest.items_size() == 0) {
    digest.set_member_id(member.value());
    digest.set_local_day(day);
    digest.set_flush_at_ms(flush_at.value());
  }
  *digest.add_items() = std::move(item);
  LOYALTY_CHECK(digest.member_id() == member.value(), "digest of " + digest.member_id());
  txn.Put(cf::kDigests, member.value(), digest.SerializeAsString());
}

void DigestBook::Erase(Txn& txn, const MemberId& member) {
  digests_.erase(member.value());
  txn.Erase(cf::kDigests, member.value());
}

std::vector<Digest> DigestBook::TakeDue(Txn& txn, TimeMs now) {
  std::vector<Digest> due;
  for (auto it = digests_.begin(); it != digests_.end();) {
    if (it->second.flush_at_ms() > now.value()) {
      ++it;
      continue;
    }
    txn.Erase(cf::kDigests, it->first);
    due.push_back(std::move(it->second));
    it = digests_.erase(it);
  }
  return due;
}

}  // namespace loyalty::notification
