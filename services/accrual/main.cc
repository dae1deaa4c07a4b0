// loyalty-accrual: wires the accrual core to RocksDB, Kafka, gRPC and Prometheus.
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <thread>

#include "common/clock.h"
#include "common/config.h"
#include "common/grpc_server.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/outbox.h"
#include "common/store.h"
#include "services/accrual/accrual_metrics.h"
#include "services/accrual/core/accrual_core.h"
#include "services/accrual/grpc_service.h"
#include "services/accrual/purchase_consumer.h"

namespace loyalty::accrual {
namespace {

[[noreturn]] void Fail(const std::string& what, const Status& status) {
  LogError(what, {{"error", status.message()}});
  std::exit(1);
}

int Main(int argc, char** argv) {
  BlockShutdownSignals();
  SetLogService("accrual");
  auto config = Config::FromArgs(argc, argv);
  if (!config.ok()) Fail("bad configuration", config.status());
  auto program = AccrualConfig::FromConfig(*config);
  if (!program.ok()) Fail("bad program configuration", program.status());

  std::string data_dir = config->GetString("data_dir", "./data/accrual");
  std::string brokers = config->GetString("kafka.brokers", "127.0.0.1:9092");
  std::string grpc_address = config->GetString("grpc.address", "0.0.0.0:50051");
  std::string metrics_address = config->GetString("metrics.address", "0.0.0.0:9464");
  std::string ports_file = config->GetString("ports_file", "");
  ConsumerOptions consumer_options;
  consumer_options.max_batch = config->GetInt("kafka.max_batch", 2000);
  consumer_options.max_wait_ms = static_cast<int>(config->GetInt("kafka.max_wait_ms", 5));

  std::filesystem::create_directories(data_dir);
  StoreOptions store_options;
  store_options.sync = config->GetBool("store.sync", true);
  auto store = Store::Open(data_dir, AccrualColumnFamilies(), store_options);
  if (!store.ok()) Fail("cannot open the store", store.status());

  SystemClock clock;
  Outbox outbox(**store);
  AccrualCore core(**store, outbox, clock, *program);
  Metrics metrics;
  AccrualMetrics accrual_metrics(metrics.registry());

  auto producer = KafkaProducer::Create(brokers);
  if (!producer.ok()) Fail("cannot create the Kafka producer", producer.status());
  OutboxRelay relay(**store, **producer, metrics.registry());
  core.SetOnCommit([&](const std::vector<LedgerFacts>& facts) {
    relay.Notify();
    accrual_metrics.Observe(facts);
  });
  relay.Start();

  auto consumer = KafkaConsumer::Create(brokers, config->GetString("kafka.group_id", "loyalty-accrual"));
  if (!consumer.ok()) Fail("cannot create the Kafka consumer", consumer.status());
  PurchaseConsumer purchases(core, **consumer, accrual_metrics, consumer_options);
  if (Status s = purchases.Assign(); !s.ok()) Fail("cannot read the input topics", s);

  std::atomic<bool> running{true};
  std::thread consume_thread([&] { purchases.Run(running); });

  // Timed work: hold expiry and gauges, once a second.
  std::mutex scheduler_mu;
  std::condition_variable scheduler_cv;
  std::thread scheduler_thread([&] {
    std::unique_lock lock(scheduler_mu);
    while (running) {
      lock.unlock();
      core.ExpireHolds();
      accrual_metrics.SetGauges(core.MemberCount(), core.OpenHolds());
      lock.lock();
      scheduler_cv.wait_for(lock, std::chrono::seconds(1), [&] { return !running; });
    }
  });

  GrpcServer server(metrics);
  AccrualGrpcService service(core);
  server.AddService(&service);
  if (Status s = server.Start(grpc_address); !s.ok()) Fail("cannot start gRPC", s);
  if (Status s = metrics.Serve(metrics_address); !s.ok()) Fail("cannot serve /metrics", s);
  if (!ports_file.empty()) {
    if (Status s = WritePortsFile(ports_file, {{"grpc", server.port()}, {"metrics", metrics.port()}});
        !s.ok()) {
      Fail("cannot write the ports file", s);
    }
  }
  LogInfo("accrual ready", {{"grpc_port", std::to_string(server.port())},
                            {"metrics_port", std::to_string(metrics.port())},
                            {"data_dir", data_dir},
                            {"brokers", brokers}});

  int signal = WaitForShutdownSignal();
  LogInfo("shutting down", {{"signal", std::to_string(signal)}});
  server.Shutdown();
  {
    std::lock_guard lock(scheduler_mu);
    running = false;
  }
  scheduler_cv.notify_all();
  consume_thread.join();
  scheduler_thread.join();
  relay.Stop();
  LogInfo("stopped");
  return 0;
}

}  // namespace
}  // namespace loyalty::accrual

int main(int argc, char** argv) { return loyalty::accrual::Main(argc, argv); }
