// Digests: what a member was not sent on a day because of their daily cap, one line per
// event, sent as one message when their next local day starts. All are loaded on start.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/store.h"
#include "loyalty/v1/notification_internal.pb.h"
#include "services/notification/core/txn.h"
#include "services/notification/core/types.h"

namespace loyalty::notification {

using Digest = v1::notificationinternal::Digest;
using DigestItem = v1::notificationinternal::DigestItem;

class DigestBook {
 public:
  explicit DigestBook(const Store& store);

  // Adds item to the member's digest; a new digest is of local day `day` and goes at
  // flush_at (the start of the next local day).
  void Add(Txn& txn, const MemberId& member, int64_t day, TimeMs flush_at, DigestItem item);
  void Erase(Txn& txn, const MemberId& member);
  // The digests whose time came at now, in member order, removed (in txn too).
  std::vector<Digest> TakeDue(Txn& txn, TimeMs now);
  size_t size() const { return digests_.size(); }

 private:
  std::map<std::string, Digest> digests_;  // by member id
};

}  // namespace loyalty::notification
