// What every loyaltyctl command shares: the global options, the connection to accrual, the
// Kafka producer, the idempotency key of the run and the output helpers.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/kafka.h"
#include "common/kafka_settings.h"
#include "loyalty/v1/access.grpc.pb.h"
#include "loyalty/v1/accrual.grpc.pb.h"
#include "loyalty/v1/audit.grpc.pb.h"
#include "loyalty/v1/referral.grpc.pb.h"
#include "tools/loyaltyctl/args.h"
#include "tools/loyaltyctl/options.h"

namespace loyalty::ctl {

inline constexpr char kPurchasesTopic[] = "loyalty.purchases.v1";
inline constexpr char kRefundsTopic[] = "loyalty.refunds.v1";
inline constexpr char kActivitiesTopic[] = "loyalty.activities.v1";

// An RPC or a publish that failed; the message is printed to stderr and loyaltyctl exits 1.
class CommandFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Ctl {
 public:
  explicit Ctl(GlobalOptions options) : options_(std::move(options)) {}

  const GlobalOptions& options() const { return options_; }
  bool json() const { return options_.json; }

  // The key for this run's mutating call: --key or one made up once per run.
  const std::string& IdempotencyKey();

  using Rpc = std::function<grpc::Status(v1::AccrualService::Stub&, grpc::ClientContext*)>;
  // Runs one call to accrual with the --timeout deadline.
  grpc::Status TryCall(const Rpc& rpc);
  // Like TryCall, but a failure throws CommandFailed with the code name and the message. For
  // a mutating call the message also tells how to retry it with the same key.
  void Call(const Rpc& rpc, bool mutating);

  // The same for loyalty.v1.ReferralService at --referral.
  using ReferralRpc = std::function<grpc::Status(v1::ReferralService::Stub&, grpc::ClientContext*)>;
  grpc::Status TryReferralCall(const ReferralRpc& rpc);
  void CallReferral(const ReferralRpc& rpc, bool mutating);

  // The same for loyalty.v1.AccessService (API keys), which accrual hosts at --accrual.
  using AccessRpc = std::function<grpc::Status(v1::AccessService::Stub&, grpc::ClientContext*)>;
  grpc::Status TryAccessCall(const AccessRpc& rpc);
  void CallAccess(const AccessRpc& rpc);

  // loyalty.v1.AuditService of the service at address (every service has its own log).
  using AuditRpc = std::function<grpc::Status(v1::AuditService::Stub&, grpc::ClientContext*)>;
  void CallAudit(const std::string& address, const AuditRpc& rpc);

  // Where and how the Kafka clients connect: --brokers, and the security settings from the
  // LOYALTY_KAFKA_* variables the services read too (LOYALTY_KAFKA_SECURITY_PROTOCOL,
  // LOYALTY_KAFKA_SASL_PASSWORD, ...: common/kafka_settings.h). Throws CommandFailed when
  // they are refused.
  KafkaClientSettings KafkaSettings() const;

  // Queues one message for Kafka (the producer is created on first use); throws
  // CommandFailed if it cannot be queued.
  void Send(const std::string& topic, const std::string& key, const std::string& value);
  // Waits until the broker answered for every sent message; returns how many failed, with
  // the first error in first_error.
  int64_t AwaitDeliveries(std::string* first_error);
  // Send and wait for the broker's acknowledgement; throws CommandFailed.
  void Publish(const std::string& topic, const std::string& key, const std::string& value);

  // One message as proto3 JSON on one line of stdout.
  void PrintJson(const google::protobuf::Message& message);

 private:
  // For both stubs: throws CommandFailed when TLS is neither configured nor switched off.
  std::shared_ptr<grpc::ChannelCredentials> Credentials() const;
  GlobalOptions options_;
  std::string generated_key_;
  std::unique_ptr<v1::AccrualService::Stub> stub_;
  std::unique_ptr<v1::ReferralService::Stub> referral_stub_;
  std::unique_ptr<v1::AccessService::Stub> access_stub_;
  KafkaProducer& producer();
  int64_t TimeoutMs() const;                                // --timeout
  std::unique_ptr<grpc::ClientContext> NewContext() const;  // with the --timeout deadline
  // Throws CommandFailed for a failed call to `service` at `address`.
  [[noreturn]] void Fail(const grpc::Status& status, bool mutating, const std::string& service,
                         const std::string& address);

  std::unique_ptr<KafkaProducer> producer_;
  struct Deliveries {
    int64_t pending = 0;
    int64_t failed = 0;
    std::string first_error;
  };
  std::shared_ptr<Deliveries> deliveries_ = std::make_shared<Deliveries>();
};

}  // namespace loyalty::ctl
