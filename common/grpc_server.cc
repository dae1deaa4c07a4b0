#include "common/grpc_server.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include <absl/synchronization/mutex.h>
#include <google/protobuf/descriptor.h>
#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/impl/server_initializer.h>
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

// Collects the full names of the services the builder registered ("loyalty.v1.AccrualService")
// once the server is built: grpc::Service does not tell its name, the server initializer
// does (as it does for the reflection plugin). Added to one builder through an option.
class ServiceNamesPlugin : public grpc::ServerBuilderPlugin {
 public:
  explicit ServiceNamesPlugin(std::vector<std::string>* names) : names_(names) {}
  std::string name() override { return "loyalty_service_names"; }
  void InitServer(grpc::ServerInitializer*) override {}
  void Finish(grpc::ServerInitializer* si) override {
    for (const auto& name : *si->GetServiceList()) {
      if (!name.starts_with("grpc.")) names_->push_back(name);  // not health or reflection
    }
  }
  void ChangeArguments(const std::string&, void*) override {}

 private:
  std::vector<std::string>* names_;
};

class ServiceNamesOption : public grpc::ServerBuilderOption {
 public:
  explicit ServiceNamesOption(std::vector<std::string>* names) : names_(names) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ServiceNamesPlugin>(names_));
  }

 private:
  std::vector<std::string>* names_;
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
    // "loyalty.v1.GetBalanceRequest"; empty for a method the generated pool does not know.
    std::string request_type;
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
      if (const auto* service =
              google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
                  method->service)) {
        if (const auto* m = service->FindMethodByName(method->method)) {
          method->request_type = m->input_type()->full_name();
        }
      }
    }
    method->handling_seconds = &handling_seconds_.Add(
        {{"grpc_service", method->service}, {"grpc_method", method->method}}, Buckets());
    Method& ref = *method;
    methods_.emplace(std::string(name), std::move(method));
    return ref;
  }

  // Calls between the creation of their interceptor and its destruction, which comes after
  // the status was sent.
  void CallStarted() {
    std::lock_guard lock(mu_);
    ++in_flight_;
    ++started_;
    if (watching_) idle_cv_.notify_all();
  }
  void CallEnded() {
    std::lock_guard lock(mu_);
    --in_flight_;
    if (watching_) idle_cv_.notify_all();
  }
  // Waits until no call has been in flight for quiet, or stop() holds (checked under the
  // lock, so call Wake after changing it); returns whether the server was quiet.
  template <typename Stop>
  bool WaitQuiet(std::chrono::milliseconds quiet, Stop stop) {
    std::unique_lock lock(mu_);
    watching_ = true;
    idle_cv_.wait(lock, [&] { return in_flight_ == 0 || stop(); });
    const uint64_t seen = started_;
    idle_cv_.wait_for(lock, quiet, [&] { return started_ != seen || stop(); });
    return !stop() && started_ == seen && in_flight_ == 0;
  }
  void Wake() {
    std::lock_guard lock(mu_);
    idle_cv_.notify_all();
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
  std::condition_variable idle_cv_;
  int in_flight_ = 0;      // guarded by mu_
  uint64_t started_ = 0;   // guarded by mu_
  bool watching_ = false;  // guarded by mu_: a stop waits on idle_cv_
  std::unordered_map<std::string, std::unique_ptr<Method>, StringHash, std::equal_to<>> methods_;
};

namespace {

// One per call: times it from creation (when the server starts the call) to the moment its
// status is about to be sent, counts it in flight for the graceful stop, and answers a unary
// request that did not decode with INVALID_ARGUMENT. gRPC itself answers INTERNAL for such a
// request in a blocking handler and UNIMPLEMENTED in a callback one (it never runs either).
class CallInterceptor : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(GrpcServer::RpcMetrics& metrics, GrpcServer::RpcMetrics::Method& method,
                  bool unary)
      : metrics_(metrics),
        method_(method),
        unary_(unary),
        start_(std::chrono::steady_clock::now()) {
    metrics_.CallStarted();
  }
  ~CallInterceptor() override { metrics_.CallEnded(); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    // A unary call's request is decoded before its handler runs; nullptr here means it did
    // not decode (a stream's end of input also comes as nullptr, hence unary only).
    if (unary_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      undecodable_ = true;
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      if (undecodable_) {
        methods->ModifySendStatus(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            "request does not decode as " +
                (method_.request_type.empty() ? "the method's request" : method_.request_type)));
      }
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
      metrics_.Record(method_, methods->GetSendStatus().error_code(), elapsed.count());
    }
    methods->Proceed();
  }

 private:
  GrpcServer::RpcMetrics& metrics_;
  GrpcServer::RpcMetrics::Method& method_;
  const bool unary_;
  bool undecodable_ = false;
  std::chrono::steady_clock::time_point start_;
};

class CallInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallInterceptorFactory(GrpcServer::RpcMetrics& metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallInterceptor(metrics_, metrics_.ForMethod(info->method()),
                               info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY);
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

Status GrpcServer::Start(const std::string& address,
                         std::shared_ptr<grpc::ServerCredentials> credentials) {
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
  builder.AddListeningPort(address, std::move(credentials), &selected_port);
  for (grpc::Service* service : services_) builder.RegisterService(service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<CallInterceptorFactory>(*rpc_metrics_));
  builder.experimental().SetInterceptorCreators(std::move(creators));
  std::vector<std::string> service_names;
  builder.SetOption(std::make_unique<ServiceNamesOption>(&service_names));
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
  if (auto* health = server->GetHealthCheckService()) {
    // "" for the whole server, and each service's full name for probes that name it.
    health->SetServingStatus(true);
    for (const auto& name : service_names) health->SetServingStatus(name, true);
  }
  {
    std::lock_guard lock(shutdown_mu_);
    server_ = std::move(server);
    port_ = selected_port;
  }
  LogInfo("grpc listening", {{"address", address}, {"port", std::to_string(selected_port)}});
  return Status::Ok();
}

std::shared_ptr<grpc::Channel> GrpcServer::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
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
  // gRPC's Shutdown returns once every connection is closed, not just every call, and a
  // client without a call in flight reads the GOAWAY only when its backup poller runs (every
  // 5 s), so an idle channel would hold the stop that long. Once no call has been in flight
  // for a moment (the GOAWAY has reached the busy clients, which then send nothing more here),
  // cancelling all calls closes the idle connections; repeated until the shutdown ends.
  std::atomic<bool> done{false};
  std::thread closer([this, &done] {
    while (!done.load()) {
      if (rpc_metrics_->WaitQuiet(std::chrono::milliseconds(100), [&] { return done.load(); })) {
        grpc_server_cancel_all_calls(server_->c_server());
      }
    }
  });
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  done = true;
  rpc_metrics_->Wake();
  closer.join();
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
