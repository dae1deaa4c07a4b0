// Sending digests: when a member's next local day starts, the lines held back by their
// daily cap go as one "digest" message (outside quiet hours), and the digest is forgotten.
#pragma once

#include <string>

#include "services/notification/core/digest_book.h"
#include "services/notification/core/modules.h"
#include "services/notification/core/templates.h"
#include "services/notification/core/txn.h"

namespace loyalty::notification {

// The template variables of a digest in language: the count (and its word) and one
// bulleted line per item. Pure.
Vars DigestVars(const Digest& digest, const std::string& language);
// A digest's own event id, one per member and local day.
std::string DigestEventId(const Digest& digest);

class DigestFlow {
 public:
  explicit DigestFlow(Modules& modules) : m_(modules) {}

  // Queues the digests whose time came at now (those of members without preferences are
  // dropped); returns how many digests.
  int Flush(Txn& txn, TimeMs now);

 private:
  Modules& m_;
};

}  // namespace loyalty::notification
