#include "common/grpc_server.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <absl/synchronization/mutex.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/interceptor.h>
#include <grpcpp/support/server_interceptor.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>

#include "common/log.h"

namespace loyalty {
namespace {

constexpr int kNumCodes = 17;  // grpc::StatusCode OK (0) .. UNAUTHENTICATED (16).

// Threads of the sync server kept waiting for calls once created (the default is 2).
constexpr int kMaxIdleThreads = 256;

constexpr std::array<const char*, kNumCodes> kCodeNames = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

}  // namespace

// The two grpc-prometheus families, and per full method name ("/pkg.Service/Method") the
// children already created, so that a call looks its series up once under a mutex and the
// status code's counter without one.
class GrpcServer::RpcMetrics {
 public:
  struct Method {
    std::string service;
    std::string method;
    prometheus::Histogram* handling_seconds = nullptr;
    // Created on the first call that ends with the code, so that only codes that occurred
    // are exported.
    std::array<std::atomic<prometheus::Counter*>, kNumCodes> handled{};
  };

  explicit RpcMetrics(prometheus::Registry& registry)
      : handled_(prometheus::BuildCounter()
                     .Name("grpc_server_handled_total")
                     .Help("Total number of RPCs completed on the server, regardless of success "
                           "or failure.")
                     .Register(registry)),
        handling_seconds_(prometheus::BuildHistogram()
                              .Name("grpc_server_handling_seconds")
                              .Help("Histogram of response latency (seconds) of gRPC that had "
                                    "been application-level handled by the server.")
                              .Register(registry)) {}

  Method& ForMethod(const char* full_name) {
    std::string_view name = full_name != nullptr ? full_name : "";
    std::lock_guard lock(mu_);
    auto it = methods_.find(name);
    if (it != methods_.end()) return *it->second;
    auto method = std::make_unique<Method>();
    // "/loyalty.v1.AccrualService/GetBalance" -> "loyalty.v1.AccrualService", "GetBalance".
    std::string_view trimmed = name.substr(name.starts_with('/') ? 1 : 0);
    const auto slash = trimmed.rfind('/');
    if (slash == std::string_view::npos) {
      method->service = "unknown";
      method->method = std::string(trimmed.empty() ? "unknown" : trimmed);
    } else {
      method->service = std::string(trimmed.substr(0, slash));
      method->method = std::string(trimmed.substr(slash + 1));
    }
    method->handling_seconds = &handling_seconds_.Add(
        {{"grpc_service", method->service}, {"grpc_method", method->method}}, Buckets());
    Method& ref = *method;
    methods_.emplace(std::string(name), std::move(method));
    return ref;
  }

  void Record(Method& method, grpc::StatusCode code, double seconds) {
    int index = static_cast<int>(code);
    if (index < 0 || index >= kNumCodes) index = grpc::StatusCode::UNKNOWN;
    prometheus::Counter* counter = method.handled[index].load(std::memory_order_acquire);
    if (counter == nullptr) {
      // Family::Add returns the existing child for the same labels, so a race here only
      // stores the same pointer twice.
      counter = &handled_.Add({{"grpc_service", method.service},
                               {"grpc_method", method.method},
                               {"grpc_code", kCodeNames[index]}});
      method.handled[index].store(counter, std::memory_order_release);
    }
    counter->Increment();
    method.handling_seconds->Observe(seconds);
  }

 private:
  static const prometheus::Histogram::BucketBoundaries& Buckets() {
    static const prometheus::Histogram::BucketBoundaries kBuckets = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
    return kBuckets;
  }

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handling_seconds_;
  std::mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<Method>, StringHash, std::equal_to<>> methods_;
};

namespace {

// One per call: times it from creation (when the server starts the call) to the moment its
// status is about to be sent.
class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(GrpcServer::RpcMetrics& metrics, GrpcServer::RpcMetrics::Method& method)
      : metrics_(metrics), method_(method), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
      metrics_.Record(method_, methods->GetSendStatus().error_code(), elapsed.count());
    }
    methods->Proceed();
  }

 private:
  GrpcServer::RpcMetrics& metrics_;
  GrpcServer::RpcMetrics::Method& method_;
  std::chrono::steady_clock::time_point start_;
};

class MetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(GrpcServer::RpcMetrics& metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, metrics_.ForMethod(info->method()));
  }

 private:
  GrpcServer::RpcMetrics& metrics_;
};

}  // namespace

GrpcServer::GrpcServer(Metrics& metrics)
    : rpc_metrics_(std::make_unique<RpcMetrics>(metrics.registry())) {}

GrpcServer::~GrpcServer() {
  Shutdown();
  Wait();
}

void GrpcServer::AddService(grpc::Service* service) { services_.push_back(service); }

Status GrpcServer::Start(const std::string& address) {
  if (server_) return FailedPrecondition("grpc server already started");
  // Both are process-wide settings read when the builder is created.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Also process-wide: Debian's Abseil is built without NDEBUG, so every absl::Mutex (gRPC
  // takes several per call, client and server side) would also update a debug lock-order
  // graph behind one global lock. It only diagnoses; no lock behaves differently without it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &selected_port);
  for (grpc::Service* service : services_) builder.RegisterService(service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<MetricsInterceptorFactory>(*rpc_metrics_));
  builder.experimental().SetInterceptorCreators(std::move(creators));
  // The sync server's default pool (at most two idle pollers) ends a thread after its call
  // whenever two others are polling, so under concurrency almost every call creates and
  // destroys a thread (clone, fresh stack pages, TLB shootdowns at exit, thread-locals seeded
  // again): a quarter to a third of each service's CPU in the redemption benchmark. Idle
  // threads wait for the next call instead; the pool still only grows with concurrent calls.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, kMaxIdleThreads);

  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected_port == 0) {
    return Internal("cannot start grpc server on " + address);
  }
  if (auto* health = server->GetHealthCheckService()) health->SetServingStatus(true);
  {
    std::lock_guard lock(shutdown_mu_);
    server_ = std::move(server);
    port_ = selected_port;
  }
  LogInfo("grpc listening", {{"address", address}, {"port", std::to_string(selected_port)}});
  return Status::Ok();
}

void GrpcServer::Shutdown(std::chrono::milliseconds grace) {
  std::lock_guard lock(shutdown_mu_);
  if (!server_ || shut_down_) return;
  shut_down_ = true;
  // Health first, so that load balancers and probes stop sending before calls are refused.
  if (auto* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(false);
    health->Shutdown();
  }
  LogInfo("grpc shutting down",
          {{"port", std::to_string(port_)}, {"grace_ms", std::to_string(grace.count())}});
  server_->Shutdown(std::chrono::system_clock::now() + grace);
}

void GrpcServer::Wait() {
  grpc::Server* server = nullptr;
  {
    std::lock_guard lock(shutdown_mu_);
    server = server_.get();
  }
  if (server != nullptr) server->Wait();
}

namespace {

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void BlockShutdownSignals() {
  const sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForShutdownSignal() {
  const sigset_t set = ShutdownSignals();
  int signal = 0;
  while (sigwait(&set, &signal) != 0) {
  }
  LogInfo("shutdown signal", {{"signal", signal == SIGTERM  ? "SIGTERM"
                                         : signal == SIGINT ? "SIGINT"
                                                            : std::to_string(signal)}});
  return signal;
}

Status WritePortsFile(const std::string& path, const std::map<std::string, int>& ports) {
  std::string json = "{";
  for (const auto& [name, port] : ports) {
    if (json.size() > 1) json += ",";
    json += "\"" + JsonEscape(name) + "\":" + std::to_string(port);
  }
  json += "}\n";

  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  std::FILE* file = std::fopen(tmp.c_str(), "w");
  if (file == nullptr) {
    return Internal("cannot create " + tmp + ": " + std::strerror(errno));
  }
  bool written = std::fwrite(json.data(), 1, json.size(), file) == json.size() &&
                 std::fflush(file) == 0 && fsync(fileno(file)) == 0;
  int write_errno = errno;
  if (std::fclose(file) != 0 && written) {
    written = false;
    write_errno = errno;
  }
  if (!written) {
    std::remove(tmp.c_str());
    return Internal("cannot write " + tmp + ": " + std::strerror(write_errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(tmp.c_str());
    return Internal("cannot rename " + tmp + " to " + path + ": " + std::strerror(rename_errno));
  }
  return Status::Ok();
}

}  // namespace loyalty
