#include "tools/loyaltyctl/ctl.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <cmath>
#include <iostream>

#include "common/ids.h"
#include "tools/loyaltyctl/format.h"

namespace loyalty::ctl {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Codes after which the caller cannot know whether a mutating call took effect.
bool OutcomeUnknown(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNAVAILABLE:
      return true;
    default:
      return false;
  }
}

}  // namespace

int64_t Ctl::TimeoutMs() const {
  return static_cast<int64_t>(std::ceil(options_.timeout_seconds * 1000));
}

const std::string& Ctl::IdempotencyKey() {
  if (!options_.key.empty()) return options_.key;
  // Time-ordered with 64 random bits (common/ids.h): unique without coordination.
  if (generated_key_.empty()) generated_key_ = NewId("ctl", NowMs());
  return generated_key_;
}

std::unique_ptr<grpc::ClientContext> Ctl::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(TimeoutMs()));
  if (!options_.api_key.empty())
    context->AddMetadata("authorization", "Bearer " + options_.api_key);
  return context;
}

std::shared_ptr<grpc::ChannelCredentials> Ctl::Credentials() const {
  const GrpcTlsSettings& tls = options_.tls;
  if (!tls.insecure && tls.ca_file.empty()) {
    throw CommandFailed(
        "no TLS settings for gRPC: give --tls-cert, --tls-key and --tls-ca (or "
        "LOYALTY_CTL_TLS_CERT, _KEY, _CA), or --insecure for services run with grpc.insecure");
  }
  if (Status s = CheckTlsFiles(tls); !s.ok()) {
    std::string message = s.message();
    for (auto [key, flag] : {std::pair{"grpc.tls.cert_file", "--tls-cert"},
                             {"grpc.tls.key_file", "--tls-key"},
                             {"grpc.tls.ca_file", "--tls-ca"}}) {
      if (message.rfind(key, 0) == 0) message = flag + message.substr(std::string(key).size());
    }
    throw CommandFailed(message);
  }
  return ChannelCredentials(tls);
}

grpc::Status Ctl::TryCall(const Rpc& rpc) {
  if (!stub_) {
    stub_ =
        v1::AccrualService::NewStub(grpc::CreateChannel(options_.accrual_address, Credentials()));
  }
  return rpc(*stub_, NewContext().get());
}

void Ctl::Call(const Rpc& rpc, bool mutating) {
  grpc::Status status = TryCall(rpc);
  if (!status.ok()) Fail(status, mutating, "accrual", options_.accrual_address);
}

grpc::Status Ctl::TryReferralCall(const ReferralRpc& rpc) {
  if (!referral_stub_) {
    referral_stub_ =
        v1::ReferralService::NewStub(grpc::CreateChannel(options_.referral_address, Credentials()));
  }
  return rpc(*referral_stub_, NewContext().get());
}

void Ctl::CallReferral(const ReferralRpc& rpc, bool mutating) {
  grpc::Status status = TryReferralCall(rpc);
  if (!status.ok()) Fail(status, mutating, "referral", options_.referral_address);
}

grpc::Status Ctl::TryAccessCall(const AccessRpc& rpc) {
  if (!access_stub_) {
    access_stub_ =
        v1::AccessService::NewStub(grpc::CreateChannel(options_.accrual_address, Credentials()));
  }
  return rpc(*access_stub_, NewContext().get());
}

void Ctl::CallAccess(const AccessRpc& rpc) {
  grpc::Status status = TryAccessCall(rpc);
  if (!status.ok()) Fail(status, /*mutating=*/false, "accrual", options_.accrual_address);
}

void Ctl::CallAudit(const std::string& address, const AuditRpc& rpc) {
  auto stub = v1::AuditService::NewStub(grpc::CreateChannel(address, Credentials()));
  grpc::Status status = rpc(*stub, NewContext().get());
  if (!status.ok()) Fail(status, /*mutating=*/false, "the service", address);
}

void Ctl::Fail(const grpc::Status& status, bool mutating, const std::string& service,
               const std::string& address) {
  std::string message = GrpcCodeName(status.error_code()) + ": " + status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    message += " (" + service + " at " + address + ")";
  }
  if (mutating && OutcomeUnknown(status.error_code())) {
    message +=
        "\nthe call may or may not have taken effect; to retry it safely, repeat it with --key=" +
        IdempotencyKey();
  }
  throw CommandFailed(message);
}

KafkaClientSettings Ctl::KafkaSettings() const {
  auto config = Config::FromYamlText("");
  if (!config.ok()) throw CommandFailed(config.status().message());
  config->Set("kafka.brokers", options_.brokers);
  auto settings = KafkaClientSettingsFrom(*config);
  if (!settings.ok()) {
    throw CommandFailed("Kafka settings (LOYALTY_KAFKA_* environment): " +
                        settings.status().message());
  }
  return std::move(*settings);
}

KafkaProducer& Ctl::producer() {
  if (!producer_) {
    // A message the broker has not acknowledged within --timeout fails instead of waiting
    // for the producer's default of 30 s.
    auto created = KafkaProducer::Create(KafkaSettings(),
                                         {{"message.timeout.ms", std::to_string(TimeoutMs())}});
    if (!created.ok()) throw CommandFailed("Kafka producer: " + created.status().message());
    producer_ = std::move(*created);
  }
  return *producer_;
}

void Ctl::Send(const std::string& topic, const std::string& key, const std::string& value) {
  // Delivery callbacks run inside Poll and Flush on this thread: the counters need no lock.
  auto on_delivery = [deliveries = deliveries_](const DeliveryResult& result) {
    --deliveries->pending;
    if (!result.delivered && deliveries->failed++ == 0) deliveries->first_error = result.error;
  };
  ++deliveries_->pending;
  Status queued = producer().Produce(topic, key, value, {}, on_delivery);
  if (!queued.ok()) {
    --deliveries_->pending;  // never queued: no callback will come
    throw CommandFailed(queued.message());
  }
}

int64_t Ctl::AwaitDeliveries(std::string* first_error) {
  // Every message gets an answer within message.timeout.ms (= --timeout); allow a margin.
  auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(TimeoutMs() + 5000);
  while (deliveries_->pending > 0 && std::chrono::steady_clock::now() < give_up) {
    producer().Flush(100);
  }
  int64_t failed = deliveries_->failed + deliveries_->pending;
  if (first_error != nullptr) {
    *first_error = deliveries_->first_error;
    if (first_error->empty() && deliveries_->pending > 0)
      *first_error = "no answer from the broker";
  }
  deliveries_->failed = 0;
  deliveries_->first_error.clear();
  return failed;
}

void Ctl::Publish(const std::string& topic, const std::string& key, const std::string& value) {
  Send(topic, key, value);
  std::string error;
  if (AwaitDeliveries(&error) > 0) {
    throw CommandFailed("publish to " + topic + " at " + options_.brokers + " failed: " + error);
  }
}

void Ctl::PrintJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions json_options;
  json_options.always_print_primitive_fields = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, json_options);
  if (!status.ok()) throw CommandFailed("JSON: " + std::string(status.message()));
  std::cout << out << '\n';
}

}  // namespace loyalty::ctl
