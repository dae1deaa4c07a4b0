// Referral codes as stored: the index from every code ever issued (generated or vanity) to
// its member. A member gets one generated code, made on first ask from the first free
// attempt of GeneratedCode (codes.h), and may add vanity codes; old codes keep resolving
// because members may have shared them.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/referral.pb.h"
#include "services/referral/core/txn.h"
#include "services/referral/core/types.h"

namespace loyalty::referral {

inline constexpr int kMaxCodeAttempts = 1000;

class CodeBook {
 public:
  explicit CodeBook(const Store& store) : store_(store) {}

  // The member a normalised code belongs to, if any. Reads the store only, so callers may ask
  // without the core's mutex.
  std::optional<std::string> Owner(const std::string& code) const;
  // Gives member its generated code unless it has one; INTERNAL if every attempt is taken.
  Status Issue(Txn& txn, MemberState& member) const;
  // Adds a vanity code (normalised) to member; ALREADY_EXISTS if another member owns it.
  Status SetVanity(Txn& txn, MemberState& member, const std::string& code) const;
  // The member's codes as callers see them: the vanity code wins if set.
  static v1::ReferralCode View(const MemberState& member);

 private:
  const Store& store_;
};

}  // namespace loyalty::referral
