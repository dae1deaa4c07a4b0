#include "common/auth/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "common/field_limits.h"

namespace loyalty::auth {
namespace {

constexpr std::string_view kSecretPrefix = "lk_";
constexpr size_t kKeyIdRandomBytes = 8;    // "k" + 16 hex digits
constexpr size_t kSecretRandomBytes = 32;  // 64 hex digits
constexpr size_t kSaltBytes = 16;
constexpr size_t kMaxNameBytes = 64;

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // OpenSSL's generator is seeded from the kernel; failing here means no key can be safe.
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Status CheckName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes ||
      !std::all_of(name.begin(), name.end(), IsNameChar)) {
    return InvalidArgument("name: 1 to 64 of [a-z0-9._-], got " + Quote(name));
  }
  return Status::Ok();
}

// The key id a presented secret names, or "" if it is not shaped like a secret.
std::string_view KeyIdOf(std::string_view secret) {
  constexpr size_t kIdLength = 1 + 2 * kKeyIdRandomBytes;
  if (secret.size() != kSecretPrefix.size() + kIdLength + 1 + 2 * kSecretRandomBytes ||
      secret.substr(0, kSecretPrefix.size()) != kSecretPrefix) {
    return {};
  }
  std::string_view id = secret.substr(kSecretPrefix.size(), kIdLength);
  if (id[0] != 'k' || !IsHex(id.substr(1)) || secret[kSecretPrefix.size() + kIdLength] != '_' ||
      !IsHex(secret.substr(kSecretPrefix.size() + kIdLength + 1))) {
    return {};
  }
  return id;
}

}  // namespace

std::string RandomHex(size_t n) { return Hex(RandomBytes(n)); }

std::string SecretDigest(std::string_view salt, std::string_view secret) {
  std::string input;
  input.reserve(salt.size() + secret.size());
  input.append(salt).append(secret);
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  unsigned int length = 0;
  if (EVP_Digest(input.data(), input.size(), reinterpret_cast<unsigned char*>(digest.data()),
                 &length, EVP_sha256(), nullptr) != 1 ||
      length != SHA256_DIGEST_LENGTH) {
    throw std::runtime_error("EVP_Digest(sha256) failed");
  }
  OPENSSL_cleanse(input.data(), input.size());
  return digest;
}

StatusOr<MintedApiKey> MintApiKey(const v1::CreateApiKeyRequest& request,
                                  std::string_view created_by, int64_t now_ms) {
  if (Status s = CheckName(request.name()); !s.ok()) return s;
  if (request.roles().empty() || static_cast<size_t>(request.roles().size()) > kMaxApiKeyRoles) {
    return InvalidArgument("roles: 1 to 10 roles, got " + std::to_string(request.roles().size()));
  }
  if (request.expires_at_ms() < 0 ||
      (request.expires_at_ms() != 0 && request.expires_at_ms() <= now_ms)) {
    return InvalidArgument("expires_at_ms: 0 (never) or a time in the future, got " +
                           std::to_string(request.expires_at_ms()));
  }
  MintedApiKey minted;
  v1::ApiKey& key = *minted.record.mutable_key();
  key.set_key_id("k" + RandomHex(kKeyIdRandomBytes));
  key.set_name(request.name());
  // Sorted and without repeats, so that a listing reads the same however they were given.
  std::vector<std::string> roles(request.roles().begin(), request.roles().end());
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  for (auto& role : roles) key.add_roles(std::move(role));
  key.set_created_at_ms(now_ms);
  key.set_expires_at_ms(request.expires_at_ms());
  key.set_created_by(std::string(created_by));
  minted.secret = std::string(kSecretPrefix) + key.key_id() + "_" + RandomHex(kSecretRandomBytes);
  minted.record.set_salt(RandomBytes(kSaltBytes));
  minted.record.set_secret_sha256(SecretDigest(minted.record.salt(), minted.secret));
  return minted;
}

Status ApiKeyBook::Apply(const v1::ApiKeyRecord& record) {
  const v1::ApiKey& key = record.key();
  if (key.key_id().empty() || key.key_id().size() > 1 + 2 * kKeyIdRandomBytes) {
    return InvalidArgument("key.key_id: not a key id: " + Quote(key.key_id()));
  }
  if (Status s = CheckName(key.name()); !s.ok()) return InvalidArgument("key." + s.message());
  if (key.roles().empty() || static_cast<size_t>(key.roles().size()) > kMaxApiKeyRoles) {
    return InvalidArgument("key.roles: 1 to 10 roles");
  }
  if (record.salt().size() != kSaltBytes || record.secret_sha256().size() != SHA256_DIGEST_LENGTH) {
    return InvalidArgument("salt, secret_sha256: 16 and 32 bytes");
  }
  std::unique_lock lock(mu_);
  auto it = keys_.find(key.key_id());
  if (it == keys_.end() && keys_.size() >= kMaxApiKeys) {
    return InvalidArgument("key: more than 10,000 keys; revoke and compact old ones first");
  }
  // A revocation is final: a late or replayed record of the key in force does not undo it.
  if (it != keys_.end() && it->second.key().revoked_at_ms() != 0 && key.revoked_at_ms() == 0) {
    return Status::Ok();
  }
  keys_[key.key_id()] = record;
  return Status::Ok();
}

bool ApiKeyBook::InForce(const v1::ApiKey& key) const {
  return key.revoked_at_ms() == 0 &&
         (key.expires_at_ms() == 0 || clock_.NowMs() < key.expires_at_ms());
}

std::optional<KeyIdentity> ApiKeyBook::Verify(std::string_view presented) const {
  std::string_view key_id = KeyIdOf(presented);
  if (key_id.empty()) return std::nullopt;
  std::shared_lock lock(mu_);
  auto it = keys_.find(std::string(key_id));
  if (it == keys_.end()) return std::nullopt;
  const v1::ApiKeyRecord& record = it->second;
  std::string digest = SecretDigest(record.salt(), presented);
  // Constant time: how much of a guess matched must not show in how long the answer takes.
  if (CRYPTO_memcmp(digest.data(), record.secret_sha256().data(), digest.size()) != 0) {
    return std::nullopt;
  }
  if (!InForce(record.key())) return std::nullopt;
  return KeyIdentity{record.key().name(),
                     {record.key().roles().begin(), record.key().roles().end()}};
}

std::vector<v1::ApiKey> ApiKeyBook::List(bool include_revoked) const {
  std::vector<v1::ApiKey> out;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, record] : keys_) {
      if (include_revoked || InForce(record.key())) out.push_back(record.key());
    }
  }
  std::sort(out.begin(), out.end(), [](const v1::ApiKey& a, const v1::ApiKey& b) {
    if (a.name() != b.name()) return a.name() < b.name();
    if (a.created_at_ms() != b.created_at_ms()) return a.created_at_ms() < b.created_at_ms();
    return a.key_id() < b.key_id();
  });
  return out;
}

std::optional<v1::ApiKeyRecord> ApiKeyBook::Find(std::string_view key_id) const {
  std::shared_lock lock(mu_);
  auto it = keys_.find(std::string(key_id));
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

size_t ApiKeyBook::size() const {
  std::shared_lock lock(mu_);
  return keys_.size();
}

}  // namespace loyalty::auth
