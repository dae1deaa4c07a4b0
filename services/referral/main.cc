// loyalty-referral: wires the referral core to RocksDB, Kafka, accrual, gRPC and Prometheus.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "common/cache_metrics.h"
#include "common/clock.h"
#include "common/grpc_accrual_client.h"
#include "common/periodic_task.h"
#include "common/service_runtime.h"
#include "loyalty/v1/referral_internal.pb.h"
#include "services/referral/core/referral_core.h"
#include "services/referral/event_consumer.h"
#include "services/referral/grpc_service.h"
#include "services/referral/referral_metrics.h"

namespace loyalty::referral {
namespace {

// Every key loyalty-referral reads: the runtime's, the wiring's here, the program's.
ConfigKeys Keys() {
  return JoinKeys(
      JoinKeys(
          ServiceRuntime::RuntimeKeys("referral", 50053, 9466),
          {
              StringKey("accrual.address", "127.0.0.1:50051",
                        "accrual's gRPC address, or its instances' comma-separated in index order"),
              StringKey("kafka.group_id", "loyalty-referral",
                        "consumer group of loyalty.events.v1"),
              IntKey("kafka.max_batch", 2000, "input messages per durable write"),
              IntKey("kafka.max_wait_ms", 5, "how long a partial batch waits for more"),
          }),
      ReferralConfig::Keys());
}

int Main(int argc, char** argv) {
  auto rt = ServiceRuntime::Create("referral", argc, argv, ReferralColumnFamilies(), Keys());
  rt->SweepIdempotencyRecords<v1::referralinternal::IdempotencyRecord>();
  rt->SweepDedupeRecords("event_dedupe");
  const Config& config = rt->config();
  auto program = ReferralConfig::FromConfig(config);
  if (!program.ok()) ServiceRuntime::Fail("bad referral configuration", program.status());
  BatchOptions batch_options;
  batch_options.max_batch = config.GetInt("kafka.max_batch");
  batch_options.max_wait_ms = static_cast<int>(config.GetInt("kafka.max_wait_ms"));

  auto connected =
      ConnectAccrual(config.GetString("accrual.address"), rt->kafka(), rt->channel_credentials());
  if (!connected.ok()) ServiceRuntime::Fail("cannot reach accrual", connected.status());
  GrpcAccrualClient& accrual = **connected;
  SystemClock clock;
  ReferralCore core(rt->store(), rt->outbox(), clock, accrual, *program);
  ReferralMetrics metrics(rt->registry());
  CacheMetrics member_cache(rt->registry(), "members");
  CacheMetrics referral_cache(rt->registry(), "referrals");

  // The award worker: pays and reverses bonuses outside the core's mutex, first at once (steps
  // persisted before a restart), then when a step becomes due or every second; while accrual
  // is unreachable it pauses with a growing backoff that new work does not cut short.
  int backoff_ms = 100;
  PeriodicTask award_worker([&]() -> PeriodicTask::Pause {
    StepsResult result = core.RunPendingSteps();
    metrics.StepsRetrying(result.retrying);
    metrics.SetPendingWork(core.PendingWork());
    member_cache.Update(core.MemberCacheStats());
    referral_cache.Update(core.ReferralCacheStats());
    if (result.retrying > 0) {
      PeriodicTask::Pause backoff{std::chrono::milliseconds(backoff_ms), /*wakeable=*/false};
      backoff_ms = std::min(backoff_ms * 2, 10'000);
      return backoff;
    }
    backoff_ms = 100;
    return {std::chrono::seconds(1)};
  });
  std::atomic<bool> running{true};
  core.SetOnCommit([&](const std::vector<Fact>& facts) {
    rt->relay().Notify();
    metrics.Observe(facts);
  });
  core.SetOnWork([&] { award_worker.Wake(); });

  auto consumer =
      KafkaConsumer::Create(rt->kafka(), config.GetString("kafka.group_id"), &rt->registry());
  if (!consumer.ok()) ServiceRuntime::Fail("cannot create the Kafka consumer", consumer.status());
  (*consumer)->OwnOnly(rt->ownership());
  EventConsumer events(core, **consumer, metrics, batch_options);
  if (Status s = events.Assign(); !s.ok()) ServiceRuntime::Fail("cannot read the input", s);
  std::thread consume_thread([&] { events.Run(running); });

  award_worker.Start();

  ReferralGrpcService service(core);
  return rt->ServeUntilSignal({&service}, [&] {
    running = false;
    award_worker.Stop();
    consume_thread.join();
  });
}

}  // namespace
}  // namespace loyalty::referral

int main(int argc, char** argv) { return loyalty::referral::Main(argc, argv); }
