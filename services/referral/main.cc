// loyalty-referral: wires the referral core to RocksDB, Kafka, accrual, gRPC and Prometheus.
#include <atomic>
#include <condition_variable>
#include <thread>

#include "common/clock.h"
#include "common/grpc_accrual_client.h"
#include "common/service_runtime.h"
#include "loyalty/v1/referral_internal.pb.h"
#include "services/referral/core/referral_core.h"
#include "services/referral/event_consumer.h"
#include "services/referral/grpc_service.h"
#include "services/referral/referral_metrics.h"

namespace loyalty::referral {
namespace {

int Main(int argc, char** argv) {
  auto rt = ServiceRuntime::Create("referral", argc, argv, ReferralColumnFamilies(), 50053, 9466);
  rt->SweepIdempotencyRecords<v1::referralinternal::IdempotencyRecord>();
  rt->SweepDedupeRecords("event_dedupe");
  const Config& config = rt->config();
  auto program = ReferralConfig::FromConfig(config);
  if (!program.ok()) ServiceRuntime::Fail("bad referral configuration", program.status());
  BatchOptions batch_options;
  batch_options.max_batch = config.GetInt("kafka.max_batch", 2000);
  batch_options.max_wait_ms = static_cast<int>(config.GetInt("kafka.max_wait_ms", 5));

  GrpcAccrualClient accrual(config.GetString("accrual.address", "127.0.0.1:50051"));
  SystemClock clock;
  ReferralCore core(rt->store(), rt->outbox(), clock, accrual, *program);
  ReferralMetrics metrics(rt->registry());

  std::mutex work_mu;
  std::condition_variable work_cv;
  bool work_due = true;  // resume steps persisted before a restart at once
  std::atomic<bool> running{true};
  core.SetOnCommit([&](const std::vector<Fact>& facts) {
    rt->relay().Notify();
    metrics.Observe(facts);
  });
  core.SetOnWork([&] {
    {
      std::lock_guard lock(work_mu);
      work_due = true;
    }
    work_cv.notify_all();
  });

  auto consumer =
      KafkaConsumer::Create(rt->brokers(), config.GetString("kafka.group_id", "loyalty-referral"));
  if (!consumer.ok()) ServiceRuntime::Fail("cannot create the Kafka consumer", consumer.status());
  EventConsumer events(core, **consumer, metrics, batch_options);
  if (Status s = events.Assign(); !s.ok()) ServiceRuntime::Fail("cannot read the input", s);
  std::thread consume_thread([&] { events.Run(running); });

  // The award worker: pays and reverses bonuses outside the core's mutex; retries with a
  // growing pause while accrual is unreachable.
  std::thread work_thread([&] {
    int backoff_ms = 100;
    std::unique_lock lock(work_mu);
    while (running) {
      work_due = false;
      lock.unlock();
      StepsResult result = core.RunPendingSteps();
      metrics.StepsRetrying(result.retrying);
      metrics.SetPendingWork(core.PendingWork());
      lock.lock();
      if (result.retrying > 0) {
        work_cv.wait_for(lock, std::chrono::milliseconds(backoff_ms), [&] { return !running; });
        backoff_ms = std::min(backoff_ms * 2, 10'000);
        continue;
      }
      backoff_ms = 100;
      work_cv.wait_for(lock, std::chrono::seconds(1), [&] { return !running || work_due; });
    }
  });

  ReferralGrpcService service(core);
  return rt->ServeUntilSignal({&service}, [&] {
    {
      std::lock_guard lock(work_mu);
      running = false;
    }
    work_cv.notify_all();
    consume_thread.join();
    work_thread.join();
  });
}

}  // namespace
}  // namespace loyalty::referral

int main(int argc, char** argv) { return loyalty::referral::Main(argc, argv); }
