#include "common/disk_guard.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <prometheus/gauge.h>

#include "common/grpc_server.h"
#include "common/log.h"
#include "common/metrics.h"

namespace loyalty {
namespace {

std::mutex command_line_mu;
std::vector<std::string> command_line;   // guarded by command_line_mu
std::vector<std::string> restart_flags;  // guarded by command_line_mu

Status ErrnoStatus(const std::string& what) {
  return Status(Code::kUnavailable, what + ": " + std::strerror(errno));
}

// Every method but health: the store cannot take writes, so nothing can be acknowledged.
class UnavailableService : public grpc::CallbackGenericService {
 public:
  explicit UnavailableService(std::string message) : message_(std::move(message)) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      explicit Reactor(const std::string& message) {
        Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, message));
      }
      void OnDone() override { delete this; }
    };
    return new Reactor(message_);
  }

 private:
  std::string message_;
};

bool ShutdownSignalWithin(std::chrono::milliseconds wait) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  timespec timeout{static_cast<time_t>(wait.count() / 1000),
                   static_cast<long>(wait.count() % 1000) * 1'000'000};
  return sigtimedwait(&set, nullptr, &timeout) > 0;
}

}  // namespace

Status ProbeWritable(const std::string& dir, int64_t min_free_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status(Code::kUnavailable, "creating " + dir + ": " + ec.message());
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return ErrnoStatus("statvfs " + dir);
  const int64_t free_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
  if (free_bytes < min_free_bytes) {
    return Status(Code::kUnavailable, std::to_string(free_bytes) + " bytes free in " + dir +
                                          ", store.disk_min_free_bytes is " +
                                          std::to_string(min_free_bytes));
  }
  // Free space is not enough: the file system may refuse writes (read-only, I/O errors).
  const std::string path = dir + "/.disk_probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("opening " + path);
  Status status = Status::Ok();
  static const std::string kZeros(4096, '\0');
  if (::write(fd, kZeros.data(), kZeros.size()) != static_cast<ssize_t>(kZeros.size())) {
    status = ErrnoStatus("writing " + path);
  } else if (::fsync(fd) != 0) {
    status = ErrnoStatus("syncing " + path);
  }
  ::close(fd);
  ::unlink(path.c_str());
  return status;
}

void RememberCommandLine(int argc, char** argv) {
  std::lock_guard lock(command_line_mu);
  command_line.assign(argv, argv + argc);
}

void SetRestartFlags(std::vector<std::string> flags) {
  std::lock_guard lock(command_line_mu);
  restart_flags = std::move(flags);
}

void RestartInPlace(const std::string& reason) {
  std::vector<std::string> args;
  {
    std::lock_guard lock(command_line_mu);
    args = command_line;
    // Later flags win, so the bound ports override the configured ones.
    args.insert(args.end(), restart_flags.begin(), restart_flags.end());
  }
  LogError("restarting in place to recover from disk", {{"reason", reason}});
  if (args.empty()) std::abort();
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // Every descriptor the store, gRPC and librdkafka opened is close-on-exec, so the new image
  // starts as after a crash: RocksDB's lock is free and its WAL is replayed.
  ::execv("/proc/self/exe", argv.data());
  LogError("exec failed", {{"error", std::strerror(errno)}});
  std::abort();
}

std::string FullServiceName(const std::string& service) {
  std::string name = service;
  if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return "loyalty.v1." + name + "Service";
}

BoundPorts WaitForWritableDisk(const WaitForDiskOptions& options) {
  Status probe = ProbeWritable(options.data_dir, options.min_free_bytes);
  if (probe.ok()) return {};
  LogError("the data directory cannot take writes; waiting until it does",
           {{"data_dir", options.data_dir}, {"error", probe.message()}});

  Metrics metrics;
  auto& writable = prometheus::BuildGauge()
                       .Name("loyalty_store_writable")
                       .Help(
                           "1 when the data directory takes synced writes, 0 while the "
                           "service waits for space and acknowledges nothing")
                       .Register(metrics.registry())
                       .Add({});
  writable.Set(0);
  grpc::EnableDefaultHealthCheckService(true);
  UnavailableService unavailable("the service's disk cannot take writes (" + probe.message() +
                                 "); retry later");
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort(options.grpc_address, options.credentials, &grpc_port);
  builder.RegisterCallbackGenericService(&unavailable);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || grpc_port == 0) {
    LogError("cannot start the stand-in gRPC server", {{"address", options.grpc_address}});
    std::exit(1);
  }
  if (auto* health = server->GetHealthCheckService()) {
    health->SetServingStatus(false);
    health->SetServingStatus(FullServiceName(options.service), false);
  }
  metrics.SetNotReady("waiting for a writable disk (" + probe.message() + ")");
  if (Status s = metrics.Serve(options.metrics_address); !s.ok()) {
    LogError("cannot serve /metrics", {{"error", s.message()}});
    std::exit(1);
  }
  if (!options.ports_file.empty()) {
    (void)WritePortsFile(options.ports_file, {{"grpc", grpc_port}, {"metrics", metrics.port()}});
  }
  LogInfo("waiting for a writable disk", {{"grpc_port", std::to_string(grpc_port)},
                                          {"metrics_port", std::to_string(metrics.port())}});
  while (true) {
    if (ShutdownSignalWithin(std::chrono::seconds(1))) {
      LogInfo("stopped while waiting for disk space");
      server->Shutdown(std::chrono::system_clock::now());
      std::exit(0);
    }
    probe = ProbeWritable(options.data_dir, options.min_free_bytes);
    if (probe.ok()) break;
  }
  LogInfo("the data directory takes writes again; starting");
  BoundPorts ports{grpc_port, metrics.port()};
  server->Shutdown(std::chrono::system_clock::now());
  server->Wait();
  return ports;
}

}  // namespace loyalty
