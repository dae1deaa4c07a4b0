// API keys: what a caller without a client certificate presents (`authorization: Bearer
// <secret>`), and the book every service keeps of them to verify it.
//
// A secret is "lk_<key_id>_<64 hex digits>" (32 random bytes). Only SHA-256(salt || secret)
// is kept, with a 16-byte random salt per key; verification looks the key up by the id the
// secret carries and compares digests in constant time. A fast hash is enough here: the
// secret is 256 random bits, not a password a person chose.
//
// The book holds each key's latest ApiKeyRecord as read from loyalty.apikeys.v1
// (ApiKeyFeed, common/auth/api_key_feed.h); a key verifies while it is neither revoked nor
// past its expiry by the injected clock.
#pragma once

#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/auth/authorizer.h"
#include "common/clock.h"
#include "common/status.h"
#include "loyalty/v1/access.pb.h"

namespace loyalty::auth {

inline constexpr char kApiKeysTopic[] = "loyalty.apikeys.v1";
inline constexpr size_t kMaxApiKeys = 10'000;
inline constexpr size_t kMaxApiKeyRoles = 10;

// A new key: the record to publish and the secret to show once.
struct MintedApiKey {
  v1::ApiKeyRecord record;
  std::string secret;
};
// Checks the request (name [a-z0-9._-] 1..64 bytes, 1..kMaxApiKeyRoles roles, an expiry 0 or
// after now) and makes the key with fresh random id, salt and secret. INVALID_ARGUMENT
// naming the field; the roles are checked against the policy by the caller.
StatusOr<MintedApiKey> MintApiKey(const v1::CreateApiKeyRequest& request,
                                  std::string_view created_by, int64_t now_ms);

// n random bytes from OpenSSL's generator, in lower-case hex (2n characters).
std::string RandomHex(size_t n);

// SHA-256(salt || secret), 32 bytes.
std::string SecretDigest(std::string_view salt, std::string_view secret);

class ApiKeyBook : public ApiKeyVerifier {
 public:
  explicit ApiKeyBook(const Clock& clock) : clock_(clock) {}

  // Takes a record of the topic as the key's state (the later record of a key wins).
  // INVALID_ARGUMENT for a record that is not a well-formed key; the book is then unchanged.
  Status Apply(const v1::ApiKeyRecord& record);

  std::optional<KeyIdentity> Verify(std::string_view presented) const override;

  // By name, then creation time. include_revoked: also the revoked and expired keys.
  std::vector<v1::ApiKey> List(bool include_revoked) const;
  std::optional<v1::ApiKeyRecord> Find(std::string_view key_id) const;
  size_t size() const;

 private:
  bool InForce(const v1::ApiKey& key) const;
  const Clock& clock_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, v1::ApiKeyRecord> keys_;  // by key_id; guarded by mu_
};

}  // namespace loyalty::auth
