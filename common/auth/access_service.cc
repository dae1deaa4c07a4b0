#include "common/auth/access_service.h"

#include <chrono>
#include <future>

#include "common/audit_log.h"
#include "common/field_limits.h"
#include "common/grpc_status.h"
#include "common/log.h"

namespace loyalty::auth {
namespace {

constexpr auto kAcknowledgeTimeout = std::chrono::seconds(10);

Status Unavailable(std::string message) { return {Code::kUnavailable, std::move(message)}; }

}  // namespace

Status AccessGrpcService::Publish(const v1::ApiKeyRecord& record) {
  auto answer = std::make_shared<std::promise<DeliveryResult>>();
  std::future<DeliveryResult> delivered = answer->get_future();
  Status queued = producer_.Produce(topic_, record.key().key_id(), record.SerializeAsString(), {},
                                    [answer](const DeliveryResult& r) { answer->set_value(r); });
  if (!queued.ok()) return Unavailable("the API keys topic refused the key: " + queued.message());
  auto deadline = std::chrono::steady_clock::now() + kAcknowledgeTimeout;
  while (delivered.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Unavailable(
          "Kafka did not acknowledge the key within 10 s; it may still arrive: list the keys "
          "before trying again");
    }
    producer_.Poll(50);
  }
  DeliveryResult result = delivered.get();
  if (!result.delivered) return Unavailable("the API keys topic refused the key: " + result.error);
  return book_.Apply(record);
}

grpc::Status AccessGrpcService::CreateApiKey(grpc::ServerContext* context,
                                             const v1::CreateApiKeyRequest* request,
                                             v1::CreateApiKeyResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  std::shared_ptr<const Policy> policy = policy_->Get();
  for (const auto& role : request->roles()) {
    if (!policy->HasRole(role)) {
      return ToGrpc(InvalidArgument("roles: no role " + Quote(role) + " in the policy"));
    }
  }
  const std::string principal = CallerOf(*context).principal;
  auto minted = MintApiKey(*request, principal, clock_.NowMs());
  if (!minted.ok()) return ToGrpc(minted.status());
  if (Status s = Publish(minted->record); !s.ok()) return ToGrpc(s);
  WriteAudit(store_, MakeAuditRecord("accrual", "/loyalty.v1.AccessService/CreateApiKey",
                                     Principal(principal), request, clock_.NowMs(),
                                     "key " + minted->record.key().key_id()));
  LogInfo("api key created", {{"key_id", minted->record.key().key_id()},
                              {"name", minted->record.key().name()},
                              {"by", principal}});
  *response->mutable_key() = minted->record.key();
  response->set_secret(std::move(minted->secret));
  return grpc::Status::OK;
}

grpc::Status AccessGrpcService::ListApiKeys(grpc::ServerContext*,
                                            const v1::ListApiKeysRequest* request,
                                            v1::ListApiKeysResponse* response) {
  for (auto& key : book_.List(request->include_revoked())) *response->add_keys() = std::move(key);
  return grpc::Status::OK;
}

grpc::Status AccessGrpcService::RevokeApiKey(grpc::ServerContext* context,
                                             const v1::RevokeApiKeyRequest* request,
                                             v1::ApiKey* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  auto record = book_.Find(request->key_id());
  if (!record) return ToGrpc(NotFound("key_id: no API key " + Quote(request->key_id())));
  if (record->key().revoked_at_ms() == 0) {
    const std::string principal = CallerOf(*context).principal;
    record->mutable_key()->set_revoked_at_ms(clock_.NowMs());
    record->mutable_key()->set_revoked_by(principal);
    if (Status s = Publish(*record); !s.ok()) return ToGrpc(s);
    WriteAudit(store_,
               MakeAuditRecord("accrual", "/loyalty.v1.AccessService/RevokeApiKey",
                               Principal(principal), request, clock_.NowMs(),
                               "key " + record->key().key_id() + " of " + record->key().name()));
    LogInfo(
        "api key revoked",
        {{"key_id", record->key().key_id()}, {"name", record->key().name()}, {"by", principal}});
  }
  *response = record->key();
  return grpc::Status::OK;
}

}  // namespace loyalty::auth
