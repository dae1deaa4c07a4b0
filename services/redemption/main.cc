// loyalty-redemption: wires the redemption core to RocksDB, accrual's gRPC API, the outbox
// relay, gRPC and Prometheus; resumes unfinished sagas on start and keeps retrying them.
#include <chrono>

#include "common/clock.h"
#include "common/grpc_accrual_client.h"
#include "common/log.h"
#include "common/periodic_task.h"
#include "common/service_runtime.h"
#include "common/worker_pool.h"
#include "loyalty/v1/redemption_internal.pb.h"
#include "services/redemption/core/redemption_core.h"
#include "services/redemption/grpc_service.h"
#include "services/redemption/redemption_metrics.h"

namespace loyalty::redemption {
namespace {

// Every key loyalty-redemption reads: the runtime's, the wiring's here, the rules'.
ConfigKeys Keys() {
  return JoinKeys(
      JoinKeys(
          ServiceRuntime::RuntimeKeys("redemption", 50052, 9465),
          {
              StringKey("accrual.address", "127.0.0.1:50051",
                        "accrual's gRPC address, or its instances' comma-separated in index order"),
              IntKey("accrual.deadline_ms", 5000, "deadline of each call to accrual"),
              IntKey("redemption.blocking_threads", 8,
                     "threads for the blocking saga steps of asynchronous redemptions"),
              IntKey("redemption.resume_interval_ms", 1000,
                     "how often unfinished sagas are resumed and checkouts expired"),
          }),
      RedemptionConfig::Keys());
}

int Main(int argc, char** argv) {
  auto rt = ServiceRuntime::Create("redemption", argc, argv, RedemptionColumnFamilies(), Keys());
  rt->SweepIdempotencyRecords<v1::redemptioninternal::IdempotencyEntry>();
  const Config& config = rt->config();
  auto rules = RedemptionConfig::FromConfig(config);
  if (!rules.ok()) ServiceRuntime::Fail("bad redemption configuration", rules.status());
  auto connected =
      ConnectAccrual(config.GetString("accrual.address"), rt->kafka(), rt->channel_credentials(),
                     std::chrono::milliseconds(config.GetInt("accrual.deadline_ms")));
  if (!connected.ok()) ServiceRuntime::Fail("cannot reach accrual", connected.status());
  GrpcAccrualClient& accrual = **connected;

  SystemClock clock;
  RedemptionMetrics metrics(rt->registry(), [&] { rt->relay().Notify(); });
  RedemptionCore core(rt->store(), rt->outbox(), clock, accrual, *rules, &metrics);
  // Blocking saga work handed over by the asynchronous Redeem; declared after the core so
  // that it drains before the core goes.
  WorkerPool blocking(static_cast<int>(config.GetInt("redemption.blocking_threads")));
  core.SetBlockingRunner([&](std::function<void()> work) { blocking.Run(std::move(work)); });
  int64_t resume_every_ms = config.GetInt("redemption.resume_interval_ms");

  // Timed work: resume unfinished sagas (first at once, for what a crash left), expire
  // abandoned checkouts, refresh gauges.
  PeriodicTask scheduler(std::chrono::milliseconds(resume_every_ms), [&] {
    int pending = core.ResumePending();
    core.ExpireCheckouts();
    metrics.SetGauges(core.OpenCheckouts(), pending);
  });
  scheduler.Start();

  RedemptionGrpcService service(core);
  return rt->ServeUntilSignal({&service}, [&] { scheduler.Stop(); });
}

}  // namespace
}  // namespace loyalty::redemption

int main(int argc, char** argv) { return loyalty::redemption::Main(argc, argv); }
