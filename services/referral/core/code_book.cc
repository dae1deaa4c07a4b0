#include "services/referral/core/code_book.h"

#include "common/check.h"
#include "common/field_limits.h"
#include "services/referral/core/codes.h"

namespace loyalty::referral {

std::optional<std::string> CodeBook::Owner(const std::string& code) const {
  std::string member_id;
  if (!store_.Get(cf::kCodes, code, &member_id)) return std::nullopt;
  return member_id;
}

Status CodeBook::Issue(Txn& txn, MemberState& member) const {
  if (!member.generated_code().empty()) return Status::Ok();
  std::string ignored;
  for (int attempt = 0; attempt < kMaxCodeAttempts; ++attempt) {
    std::string code = GeneratedCode(member.member_id(), attempt);
    if (!store_.Get(cf::kCodes, code, &ignored)) {
      member.set_generated_code(code);
      // Visible at once: the next member's attempt must see it taken before it is durable.
      txn.Put(cf::kCodes, code, member.member_id(), /*visible=*/true);
      return Status::Ok();
    }
  }
  return Internal("no free referral code");
}

Status CodeBook::SetVanity(Txn& txn, MemberState& member, const std::string& code) const {
  LOYALTY_CHECK(!member.generated_code().empty(), "a vanity code comes after the generated one");
  std::optional<std::string> owner = Owner(code);
  if (owner && *owner != member.member_id()) {
    return AlreadyExists("code: '" + Quote(code) + "' is taken");
  }
  // The previous vanity code keeps resolving: members may have shared it already.
  member.set_vanity_code(code);
  txn.Put(cf::kCodes, code, member.member_id(), /*visible=*/true);
  return Status::Ok();
}

v1::ReferralCode CodeBook::View(const MemberState& member) {
  v1::ReferralCode code;
  code.set_member_id(member.member_id());
  code.set_generated_code(member.generated_code());
  code.set_vanity_code(member.vanity_code());
  code.set_code(member.vanity_code().empty() ? member.generated_code() : member.vanity_code());
  return code;
}

}  // namespace loyalty::referral
