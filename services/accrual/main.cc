// loyalty-accrual: wires the accrual core to RocksDB, Kafka, gRPC and Prometheus.
#include <atomic>
#include <chrono>
#include <thread>

#include "common/auth/access_service.h"
#include "common/cache_metrics.h"
#include "common/clock.h"
#include "common/periodic_task.h"
#include "common/service_runtime.h"
#include "loyalty/v1/internal.pb.h"
#include "services/accrual/accrual_metrics.h"
#include "services/accrual/core/accrual_core.h"
#include "services/accrual/grpc_service.h"
#include "services/accrual/purchase_consumer.h"

namespace loyalty::accrual {
namespace {

// Every key loyalty-accrual reads: the runtime's, the consumer's here, the program's.
ConfigKeys Keys() {
  return JoinKeys(
      JoinKeys(ServiceRuntime::RuntimeKeys("accrual", 50051, 9464),
               {
                   StringKey("kafka.group_id", "loyalty-accrual",
                             "consumer group of the purchase, refund and activity "
                             "input"),
                   IntKey("kafka.max_batch", 2000, "input messages per durable write"),
                   IntKey("kafka.max_wait_ms", 5, "how long a partial batch waits for more"),
               }),
      AccrualConfig::Keys());
}

int Main(int argc, char** argv) {
  auto rt = ServiceRuntime::Create("accrual", argc, argv, AccrualColumnFamilies(), Keys());
  rt->SweepIdempotencyRecords<v1::internal::IdempotencyRecord>();
  const Config& config = rt->config();
  auto program = AccrualConfig::FromConfig(config);
  if (!program.ok()) ServiceRuntime::Fail("bad program configuration", program.status());
  BatchOptions batch_options;
  batch_options.max_batch = config.GetInt("kafka.max_batch");
  batch_options.max_wait_ms = static_cast<int>(config.GetInt("kafka.max_wait_ms"));

  SystemClock clock;
  AccrualCore core(rt->store(), rt->outbox(), clock, *program);
  AccrualMetrics metrics(rt->registry());
  CacheMetrics member_cache(rt->registry(), "members");
  core.SetOnCommit([&](const std::vector<LedgerFacts>& facts) {
    rt->relay().Notify();
    metrics.Observe(facts);
  });

  auto consumer =
      KafkaConsumer::Create(rt->kafka(), config.GetString("kafka.group_id"), &rt->registry());
  if (!consumer.ok()) ServiceRuntime::Fail("cannot create the Kafka consumer", consumer.status());
  (*consumer)->OwnOnly(rt->ownership());
  PurchaseConsumer purchases(core, **consumer, metrics, batch_options);
  if (Status s = purchases.Assign(); !s.ok()) ServiceRuntime::Fail("cannot read the input", s);
  // Member ids are placed by the partitions of the input, which Assign has just read.
  const Placement placement{(*consumer)->PartitionCount(kPurchasesTopic), rt->ownership()};
  core.SetPlacement(placement);

  std::atomic<bool> running{true};
  std::thread consume_thread([&] { purchases.Run(running); });

  // Timed work, once a second: hold expiry, pending release, lot expiry and reminders, tier
  // reviews, paid memberships ending, and the gauges (the member cache's among them).
  PeriodicTask scheduler(std::chrono::seconds(1), [&] {
    core.ExpireHolds();
    core.RunTimers();
    metrics.SetGauges(core.MemberCount(), core.OpenHolds());
    member_cache.Update(core.MemberCacheStats());
  });
  scheduler.Start();

  Forwarder<v1::AccrualService> forwarder(placement, rt->peers(), rt->channel_credentials(),
                                          rt->registry());
  AccrualGrpcService service(core, &forwarder);
  std::vector<grpc::Service*> services = {&service};
  // The API keys of the whole platform are created and revoked here (common/auth/).
  std::unique_ptr<KafkaProducer> keys_producer;
  std::unique_ptr<auth::AccessGrpcService> access;
  if (rt->api_keys() != nullptr) {
    auto producer = KafkaProducer::Create(rt->kafka());
    if (!producer.ok()) ServiceRuntime::Fail("cannot create the Kafka producer", producer.status());
    keys_producer = std::move(*producer);
    access = std::make_unique<auth::AccessGrpcService>(
        *keys_producer, config.GetString("auth.api_keys_topic"), *rt->api_keys(), rt->policy(),
        rt->store(), clock);
    services.push_back(access.get());
  }
  return rt->ServeUntilSignal(services, [&] {
    running = false;
    scheduler.Stop();
    consume_thread.join();
  });
}

}  // namespace
}  // namespace loyalty::accrual

int main(int argc, char** argv) { return loyalty::accrual::Main(argc, argv); }
