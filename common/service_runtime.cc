#include "common/service_runtime.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include <prometheus/gauge.h>

#include "common/clock.h"
#include "common/disk_guard.h"
#include "common/grpc_server.h"
#include "common/log.h"

namespace loyalty {
namespace {

std::string WithPort(const std::string& address, int port) {
  auto colon = address.rfind(':');
  return (colon == std::string::npos ? address : address.substr(0, colon)) + ":" +
         std::to_string(port);
}

}  // namespace

void ServiceRuntime::Fail(const std::string& what, const Status& status) {
  LogError(what, {{"error", status.message()}});
  std::exit(1);
}

std::unique_ptr<ServiceRuntime> ServiceRuntime::Create(const std::string& name, int argc,
                                                       char** argv,
                                                       std::vector<std::string> column_families,
                                                       int default_grpc_port,
                                                       int default_metrics_port) {
  BlockShutdownSignals();
  RememberCommandLine(argc, argv);
  SetLogService(name);
  std::unique_ptr<ServiceRuntime> rt(new ServiceRuntime());
  rt->name_ = name;
  auto config = Config::FromArgs(argc, argv);
  if (!config.ok()) Fail("bad configuration", config.status());
  rt->config_ = std::move(*config);
  try {
    rt->brokers_ = rt->config_.GetString("kafka.brokers", "127.0.0.1:9092");
    std::string data_dir = rt->config_.GetString("data_dir", "./data/" + name);
    std::filesystem::create_directories(data_dir);
    // Nothing starts on a disk that cannot take writes (common/disk_guard.h); the stand-in
    // holds the ports, which the service then binds again.
    const int64_t min_free_bytes = rt->config_.GetInt("store.disk_min_free_bytes", 64 << 20);
    std::string grpc_address =
        rt->config_.GetString("grpc.address", "0.0.0.0:" + std::to_string(default_grpc_port));
    std::string metrics_address =
        rt->config_.GetString("metrics.address", "0.0.0.0:" + std::to_string(default_metrics_port));
    BoundPorts held =
        WaitForWritableDisk({name, data_dir, min_free_bytes, grpc_address, metrics_address,
                             rt->config_.GetString("ports_file", "")});
    if (held.grpc != 0) {
      rt->config_.Set("grpc.address", WithPort(grpc_address, held.grpc));
      rt->config_.Set("metrics.address", WithPort(metrics_address, held.metrics));
    }
    StoreOptions store_options;
    store_options.sync = rt->config_.GetBool("store.sync", true);
    store_options.min_free_bytes = min_free_bytes;
    store_options.on_write_failure = [](const std::string& error) {
      RestartInPlace("store write failed: " + error);
    };
    if (std::find(column_families.begin(), column_families.end(), kOutboxCf) ==
        column_families.end()) {
      column_families.push_back(kOutboxCf);
    }
    auto store = Store::Open(data_dir, column_families, store_options);
    if (!store.ok()) {
      // Recovery itself writes (WAL replay, a flush): a disk that filled up meanwhile means
      // waiting again, not giving up.
      if (!ProbeWritable(data_dir, min_free_bytes).ok()) {
        RestartInPlace("opening the store: " + store.status().message());
      }
      Fail("cannot open the store", store.status());
    }
    rt->store_ = std::move(*store);
  } catch (const std::exception& e) {
    Fail("bad configuration", InvalidArgument(e.what()));
  }
  auto producer = KafkaProducer::Create(rt->brokers_);
  if (!producer.ok()) Fail("cannot create the Kafka producer", producer.status());
  rt->producer_ = std::move(*producer);
  rt->outbox_ = std::make_unique<Outbox>(*rt->store_);
  rt->relay_ =
      std::make_unique<OutboxRelay>(*rt->store_, *rt->outbox_, *rt->producer_, rt->registry());
  rt->relay_->Start();
  rt->store_metrics_ = std::make_unique<StoreMetrics>(rt->registry());
  // 0 only on the stand-in that waits for disk space (common/disk_guard.h).
  prometheus::BuildGauge()
      .Name("loyalty_store_writable")
      .Help(
          "1 when the data directory takes synced writes, 0 while the service waits for space "
          "and acknowledges nothing")
      .Register(rt->registry())
      .Add({})
      .Set(1);
  rt->records_expired_ =
      &prometheus::BuildCounter()
           .Name("idempotency_records_expired_total")
           .Help("Idempotency and dedupe records deleted after idempotency.retention_days")
           .Register(rt->registry())
           .Add({});
  rt->config_.Set("grpc.default_address", "0.0.0.0:" + std::to_string(default_grpc_port));
  rt->config_.Set("metrics.default_address", "0.0.0.0:" + std::to_string(default_metrics_port));
  // Read here, before the thread starts: the configuration is not shared with it.
  rt->retention_ms_ = rt->config_.GetInt("idempotency.retention_days", 30) * 86'400'000;
  rt->sweep_every_ =
      std::chrono::seconds(rt->config_.GetInt("idempotency.sweep_interval_seconds", 3600));
  rt->housekeeping_thread_ = std::thread([raw = rt.get()] { raw->Housekeeping(); });
  return rt;
}

void ServiceRuntime::AddRetentionSweep(
    std::function<int64_t(int64_t now_ms, int64_t retention_ms)> sweep) {
  std::lock_guard lock(stop_mu_);
  retention_sweeps_.push_back(std::move(sweep));
}

// Every 5 s the store's metrics; every sweep interval the expired idempotency and dedupe
// records.
void ServiceRuntime::Housekeeping() {
  auto next_sweep = std::chrono::steady_clock::now() + sweep_every_;
  SystemClock clock;
  std::unique_lock lock(stop_mu_);
  while (!stopping_) {
    store_metrics_->Update(*store_);
    if (!retention_sweeps_.empty() && std::chrono::steady_clock::now() >= next_sweep) {
      auto sweeps = retention_sweeps_;
      lock.unlock();
      int64_t deleted = 0;
      for (const auto& sweep : sweeps) deleted += sweep(clock.NowMs(), retention_ms_);
      if (deleted > 0) {
        records_expired_->Increment(static_cast<double>(deleted));
        LogInfo("idempotency and dedupe records expired", {{"deleted", std::to_string(deleted)}});
      }
      lock.lock();
      next_sweep = std::chrono::steady_clock::now() + sweep_every_;
    }
    auto wait = std::min<std::chrono::steady_clock::duration>(
        std::chrono::seconds(5),
        std::max<std::chrono::steady_clock::duration>(next_sweep - std::chrono::steady_clock::now(),
                                                      std::chrono::milliseconds(10)));
    stop_cv_.wait_for(lock, wait, [&] { return stopping_; });
  }
}

ServiceRuntime::~ServiceRuntime() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (housekeeping_thread_.joinable()) housekeeping_thread_.join();
  if (relay_) relay_->Stop();
}

int ServiceRuntime::ServeUntilSignal(const std::vector<grpc::Service*>& services,
                                     const std::function<void()>& on_stop) {
  std::string grpc_address =
      config_.GetString("grpc.address", config_.GetString("grpc.default_address", ""));
  std::string metrics_address =
      config_.GetString("metrics.address", config_.GetString("metrics.default_address", ""));
  GrpcServer server(metrics_);
  for (auto* service : services) server.AddService(service);
  if (Status s = server.Start(grpc_address); !s.ok()) Fail("cannot start gRPC", s);
  if (Status s = metrics_.Serve(metrics_address); !s.ok()) Fail("cannot serve /metrics", s);
  // A restart in place (common/disk_guard.h) binds the same ports again.
  SetRestartFlags({"--grpc.address=" + WithPort(grpc_address, server.port()),
                   "--metrics.address=" + WithPort(metrics_address, metrics_.port())});
  std::string ports_file = config_.GetString("ports_file", "");
  if (!ports_file.empty()) {
    Status s = WritePortsFile(ports_file, {{"grpc", server.port()}, {"metrics", metrics_.port()}});
    if (!s.ok()) Fail("cannot write the ports file", s);
  }
  LogInfo(name_ + " ready", {{"grpc_port", std::to_string(server.port())},
                             {"metrics_port", std::to_string(metrics_.port())},
                             {"brokers", brokers_}});
  int signal = WaitForShutdownSignal();
  LogInfo("shutting down", {{"signal", std::to_string(signal)}});
  server.Shutdown();
  if (on_stop) on_stop();
  relay_->Stop();
  LogInfo("stopped");
  return 0;
}

}  // namespace loyalty
