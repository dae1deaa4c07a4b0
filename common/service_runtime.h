// What every service's main wires the same way: configuration, logging, its RocksDB, the
// Prometheus registry, the Kafka producer with the outbox and its relay, and at the end the
// gRPC server, /metrics, the ports file and a graceful stop on SIGTERM/SIGINT.
//
//   auto rt = ServiceRuntime::Create("accrual", argc, argv, AccrualColumnFamilies(), keys);
//   ... build the core on rt->store(), rt->outbox(), start consumers ...
//   return rt->ServeUntilSignal({&grpc_service}, [&] { stop consumers });
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/auth/api_key_feed.h"
#include "common/auth/api_keys.h"
#include "common/auth/authorizer.h"
#include "common/auth/policy_file.h"
#include "common/config.h"
#include "common/grpc_tls.h"
#include "common/idempotent.h"
#include "common/kafka.h"
#include "common/kafka_settings.h"
#include "common/metrics.h"
#include "common/outbox_relay.h"
#include "common/partitioning.h"
#include "common/retention.h"
#include "common/status.h"
#include "common/store.h"
#include "common/store_metrics.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace loyalty {

class ServiceRuntime {
 public:
  // Blocks the shutdown signals, reads the configuration with the runtime's keys
  // (RuntimeKeys) plus keys declared, opens the store with the column families plus the
  // outbox, and starts the outbox relay. Logs and exits the process on failure, an unknown
  // configuration key included. --help prints the usage and keys, --print-default-config the
  // annotated file of defaults; both exit 0.
  static std::unique_ptr<ServiceRuntime> Create(const std::string& name, int argc, char** argv,
                                                std::vector<std::string> column_families,
                                                const ConfigKeys& keys);

  // The keys every service has: data_dir, the Kafka client keys (KafkaClientKeys: brokers,
  // security), grpc.address, metrics.address, store.sync, ports_file, idempotency.*, the gRPC
  // TLS keys (GrpcTlsKeys) and the policy keys (auth::PolicyKeys); addresses on the service's
  // default ports.
  static ConfigKeys RuntimeKeys(const std::string& name, int default_grpc_port,
                                int default_metrics_port);
  ~ServiceRuntime();

  const Config& config() const { return config_; }
  Store& store() { return *store_; }
  Outbox& outbox() { return *outbox_; }
  OutboxRelay& relay() { return *relay_; }
  Metrics& metrics() { return metrics_; }
  prometheus::Registry& registry() { return metrics_.registry(); }
  // Where and how the service's Kafka clients connect (kafka.brokers, security keys).
  const KafkaClientSettings& kafka() const { return kafka_; }
  const std::string& brokers() const { return kafka_.brokers; }
  // The input partitions this instance owns (cluster.instances, cluster.index): its
  // consumers read only those.
  const PartitionOwnership& ownership() const { return ownership_; }
  // The service's instances in index order (cluster.peers), for forwarding; empty if unset.
  const std::vector<std::string>& peers() const { return peers_; }
  const std::string& name() const { return name_; }
  // For the service's clients of other services: its certificate as client identity.
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials() const {
    return ChannelCredentials(tls_);
  }
  // For its servers: TLS with every call authorised by the policy (common/auth/), or plain
  // text under grpc.insecure.
  std::shared_ptr<grpc::ServerCredentials> server_credentials() const {
    return ServerCredentials(tls_, authorizer_);
  }
  // The policy in force (the shipped roles and auth.policy_file).
  std::shared_ptr<auth::PolicySource> policy() const { return policy_file_->source(); }
  // The API keys this service verifies bearer tokens against, read from auth.api_keys_topic;
  // nullptr when gRPC is insecure or the topic is set empty.
  auth::ApiKeyBook* api_keys() { return api_keys_.get(); }

  // Serves gRPC and /metrics, writes the ports file if configured, blocks until SIGTERM or
  // SIGINT, then stops gRPC, calls on_stop (join the service's threads there) and the relay.
  int ServeUntilSignal(const std::vector<grpc::Service*>& services,
                       const std::function<void()>& on_stop);

  // Records kept for idempotency.retention_days (default 30) and deleted after it, every
  // idempotency.sweep_interval_seconds (3600), on the runtime's housekeeping thread
  // (common/retention.h). The service's idempotency records, message Record:
  template <typename Record>
  void SweepIdempotencyRecords() {
    AddRetentionSweep([this](int64_t now_ms, int64_t retention_ms) {
      return loyalty::SweepIdempotencyRecords<Record>(*store_, now_ms, retention_ms);
    });
  }
  // The dedupe records of consumed events in column family cf (DedupeRecord values).
  void SweepDedupeRecords(std::string cf) {
    AddRetentionSweep([this, cf](int64_t now_ms, int64_t retention_ms) {
      return loyalty::SweepDedupeRecords(*store_, cf, now_ms, retention_ms);
    });
  }
  // Any other sweep: returns how many records it deleted.
  void AddRetentionSweep(std::function<int64_t(int64_t now_ms, int64_t retention_ms)> sweep);

  // Logs the failure and exits(1): for the wiring in main, where nothing can be recovered.
  [[noreturn]] static void Fail(const std::string& what, const Status& status);

 private:
  ServiceRuntime() = default;
  void Housekeeping();

  std::string name_;
  Config config_;
  KafkaClientSettings kafka_;
  GrpcTlsSettings tls_;
  std::unique_ptr<auth::PolicyFile> policy_file_;
  std::shared_ptr<auth::Authorizer> authorizer_;
  SystemClock clock_;
  std::unique_ptr<auth::ApiKeyBook> api_keys_;
  std::unique_ptr<auth::ApiKeyFeed> api_key_feed_;
  std::chrono::seconds api_keys_load_timeout_{10};
  PartitionOwnership ownership_;
  std::vector<std::string> peers_;
  std::unique_ptr<Store> store_;
  Metrics metrics_;
  std::unique_ptr<KafkaProducer> producer_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<OutboxRelay> relay_;
  std::unique_ptr<StoreMetrics> store_metrics_;
  std::thread housekeeping_thread_;  // store metrics and retention sweeps
  int64_t retention_ms_ = 0;
  std::chrono::seconds sweep_every_{3600};
  // Guarded by stop_mu_.
  std::vector<std::function<int64_t(int64_t now_ms, int64_t retention_ms)>> retention_sweeps_;
  prometheus::Counter* records_expired_ = nullptr;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by stop_mu_
};

}  // namespace loyalty
