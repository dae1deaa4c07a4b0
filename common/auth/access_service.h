// loyalty.v1.AccessService: API keys created, listed and revoked by an admin (the shipped
// policy gives these methods to the admin role only). Hosted by accrual.
//
// A created or revoked key is published to the API keys topic and the call answers once the
// cluster acknowledged it (acks=all) and this service's own book holds it; every other
// service reads it from the topic within about a second (common/auth/api_key_feed.h).
#pragma once

#include <memory>
#include <string>

#include "common/auth/api_keys.h"
#include "common/auth/authorizer.h"
#include "common/clock.h"
#include "common/kafka.h"
#include "common/store.h"
#include "loyalty/v1/access.grpc.pb.h"

namespace loyalty::auth {

class AccessGrpcService final : public v1::AccessService::Service {
 public:
  // producer: acks=all, idempotent (common/kafka.h); book: this service's own, which the
  // published records are applied to at once.
  // store: where the creations and revocations go into the audit log (common/audit_log.h).
  AccessGrpcService(KafkaProducer& producer, std::string topic, ApiKeyBook& book,
                    std::shared_ptr<PolicySource> policy, Store& store, const Clock& clock)
      : producer_(producer),
        topic_(std::move(topic)),
        book_(book),
        policy_(std::move(policy)),
        store_(store),
        clock_(clock) {}

  grpc::Status CreateApiKey(grpc::ServerContext* context, const v1::CreateApiKeyRequest* request,
                            v1::CreateApiKeyResponse* response) override;
  grpc::Status ListApiKeys(grpc::ServerContext* context, const v1::ListApiKeysRequest* request,
                           v1::ListApiKeysResponse* response) override;
  grpc::Status RevokeApiKey(grpc::ServerContext* context, const v1::RevokeApiKeyRequest* request,
                            v1::ApiKey* response) override;

 private:
  // Publishes the key's record and waits for the acknowledgement, then applies it here.
  Status Publish(const v1::ApiKeyRecord& record);

  KafkaProducer& producer_;
  const std::string topic_;
  ApiKeyBook& book_;
  std::shared_ptr<PolicySource> policy_;
  Store& store_;
  const Clock& clock_;
};

}  // namespace loyalty::auth
