// common/auth/api_keys.h: minting, the book's verification, revocation and expiry by the
// injected clock. The gRPC side (a bearer key over real TLS) is in authorizer_test.
#include "common/auth/api_keys.h"

#include <gtest/gtest.h>

#include <set>

namespace loyalty::auth {
namespace {

v1::CreateApiKeyRequest Request(const std::string& name, std::vector<std::string> roles,
                                int64_t expires_at_ms = 0) {
  v1::CreateApiKeyRequest request;
  request.set_name(name);
  for (auto& role : roles) request.add_roles(role);
  request.set_expires_at_ms(expires_at_ms);
  return request;
}

class ApiKeysTest : public ::testing::Test {
 protected:
  MintedApiKey Mint(const std::string& name, std::vector<std::string> roles,
                    int64_t expires_at_ms = 0) {
    auto minted =
        MintApiKey(Request(name, std::move(roles), expires_at_ms), "admin", clock_.NowMs());
    EXPECT_TRUE(minted.ok()) << minted.status().message();
    EXPECT_TRUE(book_.Apply(minted->record).ok());
    return *minted;
  }

  ManualClock clock_;
  ApiKeyBook book_{clock_};
};

TEST_F(ApiKeysTest, AMintedSecretVerifiesAsItsNameAndRoles) {
  MintedApiKey key = Mint("web-shop", {"till", "support", "till"});
  EXPECT_EQ(key.secret.rfind("lk_" + key.record.key().key_id() + "_", 0), 0u) << key.secret;
  EXPECT_EQ(key.record.key().created_by(), "admin");
  auto identity = book_.Verify(key.secret);
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(identity->name, "web-shop");
  EXPECT_EQ(identity->roles, (std::vector<std::string>{"support", "till"}));  // sorted, once
}

TEST_F(ApiKeysTest, OnlyTheDigestIsKeptAndTwoKeysNeverShareIdSaltOrSecret) {
  MintedApiKey a = Mint("a", {"till"});
  MintedApiKey b = Mint("a", {"till"});
  EXPECT_EQ(a.record.secret_sha256(), SecretDigest(a.record.salt(), a.secret));
  EXPECT_EQ(a.record.SerializeAsString().find(a.secret), std::string::npos);
  EXPECT_NE(a.record.key().key_id(), b.record.key().key_id());
  EXPECT_NE(a.record.salt(), b.record.salt());
  EXPECT_NE(a.secret, b.secret);
  EXPECT_TRUE(book_.Verify(a.secret).has_value());
  EXPECT_TRUE(book_.Verify(b.secret).has_value());
}

TEST_F(ApiKeysTest, AnAlteredUnknownOrMisshapenSecretDoesNotVerify) {
  MintedApiKey key = Mint("pos", {"till"});
  std::string altered = key.secret;
  altered.back() = altered.back() == 'a' ? 'b' : 'a';
  EXPECT_FALSE(book_.Verify(altered).has_value());
  std::string other_id = key.secret;
  other_id[4] = other_id[4] == 'a' ? 'b' : 'a';  // a digit of the key id
  EXPECT_FALSE(book_.Verify(other_id).has_value());
  for (std::string bad : {std::string(""), std::string("lk_"), key.secret + "0",
                          key.secret.substr(0, key.secret.size() - 1), "Bearer " + key.secret}) {
    EXPECT_FALSE(book_.Verify(bad).has_value()) << bad;
  }
}

TEST_F(ApiKeysTest, ARevocationIsFinalEvenIfTheOlderRecordComesAgain) {
  MintedApiKey key = Mint("partner", {"marketing"});
  v1::ApiKeyRecord revoked = key.record;
  revoked.mutable_key()->set_revoked_at_ms(clock_.NowMs());
  ASSERT_TRUE(book_.Apply(revoked).ok());
  EXPECT_FALSE(book_.Verify(key.secret).has_value());
  ASSERT_TRUE(book_.Apply(key.record).ok());  // a replay of the topic from an older offset
  EXPECT_FALSE(book_.Verify(key.secret).has_value());
  EXPECT_TRUE(book_.List(false).empty());
  ASSERT_EQ(book_.List(true).size(), 1u);
}

TEST_F(ApiKeysTest, AKeyExpiresAtItsTimeByTheClock) {
  MintedApiKey key = Mint("temp", {"support"}, clock_.NowMs() + kHourMs);
  EXPECT_TRUE(book_.Verify(key.secret).has_value());
  clock_.Advance(kHourMs - 1);
  EXPECT_TRUE(book_.Verify(key.secret).has_value());
  clock_.Advance(1);
  EXPECT_FALSE(book_.Verify(key.secret).has_value());
  EXPECT_TRUE(book_.List(false).empty());
}

TEST_F(ApiKeysTest, MintRefusesBadRequestsNamingTheField) {
  auto fails_on = [&](const v1::CreateApiKeyRequest& request, const std::string& field) {
    auto minted = MintApiKey(request, "admin", clock_.NowMs());
    ASSERT_FALSE(minted.ok());
    EXPECT_EQ(minted.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(minted.status().message().rfind(field + ":", 0), 0u) << minted.status().message();
  };
  fails_on(Request("", {"till"}), "name");
  fails_on(Request("Upper", {"till"}), "name");
  fails_on(Request(std::string(65, 'a'), {"till"}), "name");
  fails_on(Request("ok", {}), "roles");
  fails_on(Request("ok", std::vector<std::string>(11, "till")), "roles");
  fails_on(Request("ok", {"till"}, clock_.NowMs()), "expires_at_ms");
  fails_on(Request("ok", {"till"}, -1), "expires_at_ms");
}

TEST_F(ApiKeysTest, MalformedRecordsLeaveTheBookUnchanged) {
  MintedApiKey key = Mint("pos", {"till"});
  v1::ApiKeyRecord bad = key.record;
  bad.set_salt("short");
  EXPECT_FALSE(book_.Apply(bad).ok());
  bad = key.record;
  bad.mutable_key()->clear_roles();
  EXPECT_FALSE(book_.Apply(bad).ok());
  bad = key.record;
  bad.mutable_key()->set_name("bad name");
  EXPECT_FALSE(book_.Apply(bad).ok());
  EXPECT_EQ(book_.size(), 1u);
  EXPECT_TRUE(book_.Verify(key.secret).has_value());
}

TEST_F(ApiKeysTest, TheListIsByNameThenCreationTime) {
  Mint("b", {"till"});
  clock_.Advance(1);
  Mint("a", {"till"});
  clock_.Advance(1);
  Mint("a", {"support"});
  auto keys = book_.List(false);
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].name(), "a");
  EXPECT_EQ(keys[0].roles(0), "till");
  EXPECT_EQ(keys[1].name(), "a");
  EXPECT_EQ(keys[1].roles(0), "support");
  EXPECT_EQ(keys[2].name(), "b");
}

}  // namespace
}  // namespace loyalty::auth
