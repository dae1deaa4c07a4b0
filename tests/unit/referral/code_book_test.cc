// The code book against a real store: a generated code per member, the next attempt after a
// collision, vanity codes that are unique and leave the old ones resolving.
#include "services/referral/core/code_book.h"

#include <gtest/gtest.h>

#include "services/referral/core/codes.h"
#include "tests/unit/referral/module_env.h"

namespace loyalty::referral {
namespace {

class CodeBookTest : public ::testing::Test {
 protected:
  MemberState& Issued(const std::string& member_id) {
    Txn txn;
    MemberState& m = env.members->GetOrCreate(txn, member_id);
    EXPECT_TRUE(codes.Issue(txn, m).ok());
    env.Commit(txn);
    return m;
  }

  ModuleEnv env;
  CodeBook codes{*env.store};
};

TEST_F(CodeBookTest, AMemberGetsItsFirstFreeGeneratedCodeOnce) {
  // alice's first attempt is taken by someone else: she gets her second.
  Txn taken;
  taken.Put(cf::kCodes, GeneratedCode("alice", 0), "mallory");
  env.Commit(taken);
  MemberState& alice = Issued("alice");
  EXPECT_EQ(alice.generated_code(), GeneratedCode("alice", 1));
  EXPECT_EQ(codes.Owner(alice.generated_code()).value_or(""), "alice");
  Txn again;
  EXPECT_TRUE(codes.Issue(again, alice).ok());
  EXPECT_TRUE(again.empty());  // nothing new
  EXPECT_EQ(CodeBook::View(alice).code(), GeneratedCode("alice", 1));
}

TEST_F(CodeBookTest, VanityCodesAreUniqueWinInTheViewAndOldOnesKeepResolving) {
  MemberState& alice = Issued("alice");
  MemberState& bob = Issued("bob");
  Txn txn;
  ASSERT_TRUE(codes.SetVanity(txn, alice, "ALICE1").ok());
  env.Commit(txn);
  Txn steal;
  Status s = codes.SetVanity(steal, bob, "ALICE1");
  EXPECT_EQ(s.code(), Code::kAlreadyExists);
  Txn next;
  ASSERT_TRUE(codes.SetVanity(next, alice, "ALICE2").ok());
  env.Commit(next);
  EXPECT_EQ(CodeBook::View(alice).code(), "ALICE2");
  EXPECT_EQ(CodeBook::View(alice).generated_code(), alice.generated_code());
  EXPECT_EQ(codes.Owner("ALICE1").value_or(""), "alice");
  EXPECT_EQ(codes.Owner(alice.generated_code()).value_or(""), "alice");
  EXPECT_FALSE(codes.Owner("NOBODY").has_value());
}

}  // namespace
}  // namespace loyalty::referral
