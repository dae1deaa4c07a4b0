#include "common/metrics.h"

#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include "common/log.h"

namespace loyalty {
namespace {

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return {};
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The fields of /proc/self/stat after the command name, so that fields()[0] is field 3
// (state) of proc(5). The name is skipped by its last ')' because it may hold spaces.
std::vector<std::string> ReadSelfStatFields() {
  std::string stat = ReadFile("/proc/self/stat");
  std::vector<std::string> fields;
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream rest(stat.substr(close + 1));
  for (std::string f; rest >> f;) fields.push_back(std::move(f));
  return fields;
}

// Field n (1-based, as numbered in proc(5)) of /proc/self/stat, or 0 if absent.
double StatField(const std::vector<std::string>& fields, size_t n) {
  if (n < 3 || n - 3 >= fields.size()) return 0;
  try {
    return std::stod(fields[n - 3]);
  } catch (const std::exception&) {
    return 0;
  }
}

// Seconds since the epoch at which the machine booted ("btime" in /proc/stat).
double BootTimeSeconds() {
  std::istringstream in(ReadFile("/proc/stat"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("btime ", 0) == 0) {
      try {
        return std::stod(line.substr(6));
      } catch (const std::exception&) {
        return 0;
      }
    }
  }
  return 0;
}

// The host to connect to for reaching a server bound to bind_address ("host:port",
// "[v6]:port" or a bare port): the wildcard addresses are reached through loopback.
std::string ConnectHost(const std::string& bind_address) {
  const auto colon = bind_address.rfind(':');
  std::string host = colon == std::string::npos ? "" : bind_address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "0.0.0.0") return "127.0.0.1";
  if (host == "::") return "::1";
  return host;
}

// Opens and closes one TCP connection; best effort.
void Poke(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* addrs = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &addrs) != 0) return;
  for (addrinfo* a = addrs; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const bool connected = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    close(fd);
    if (connected) break;
  }
  freeaddrinfo(addrs);
}

prometheus::MetricFamily Gauge(std::string name, std::string help, double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric metric;
  metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
  return family;
}

prometheus::MetricFamily Counter(std::string name, std::string help, double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Counter;
  prometheus::ClientMetric metric;
  metric.counter.value = value;
  family.metric.push_back(std::move(metric));
  return family;
}

// The process_* metrics of the Prometheus client conventions, read from /proc/self on each
// scrape.
class ProcessCollector : public prometheus::Collectable {
 public:
  ProcessCollector()
      : ticks_per_second_(static_cast<double>(sysconf(_SC_CLK_TCK))),
        page_size_(static_cast<double>(sysconf(_SC_PAGESIZE))) {
    // The start time never changes, so read it once.
    const auto fields = ReadSelfStatFields();
    start_time_seconds_ = BootTimeSeconds() + StatField(fields, 22) / ticks_per_second_;
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    const auto fields = ReadSelfStatFields();
    std::vector<prometheus::MetricFamily> families;
    families.push_back(
        Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                (StatField(fields, 14) + StatField(fields, 15)) / ticks_per_second_));
    families.push_back(Gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                             StatField(fields, 24) * page_size_));
    families.push_back(Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                             StatField(fields, 23)));
    families.push_back(Gauge("process_start_time_seconds",
                             "Start time of the process since unix epoch in seconds.",
                             start_time_seconds_));
    families.push_back(
        Gauge("process_open_fds", "Number of open file descriptors.", CountOpenFds()));
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
      families.push_back(Gauge("process_max_fds", "Maximum number of open file descriptors.",
                               static_cast<double>(limit.rlim_cur)));
    }
    return families;
  }

 private:
  static double CountOpenFds() {
    std::error_code ec;
    double count = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec)) {
      ++count;
    }
    return count;
  }

  double ticks_per_second_;
  double page_size_;
  double start_time_seconds_ = 0;
};

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      process_collector_(std::make_shared<ProcessCollector>()) {}

Metrics::~Metrics() {
  if (!exposer_) return;
  // civetweb 1.15 (Debian 12) notices mg_stop only when its accept loop's 2 s poll times out
  // (civetweb issue #1163), which would add 2 s to every shutdown. A connection arriving after
  // the stop flag is set wakes the loop at once, so keep connecting until the stop returns.
  const std::string host = ConnectHost(bind_address_);
  const int port = this->port();
  std::atomic<bool> stopped = false;
  std::thread waker([&] {
    while (!stopped.load()) {
      Poke(host, port);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  exposer_.reset();
  stopped = true;
  waker.join();
}

prometheus::Registry& Metrics::registry() { return *registry_; }

Status Metrics::Serve(const std::string& bind_address) {
  if (exposer_) return FailedPrecondition("metrics endpoint already serving");
  try {
    // civetweb throws when it cannot bind, so the exception is the only way to learn of it.
    auto exposer = std::make_unique<prometheus::Exposer>(bind_address, /*num_threads=*/2);
    exposer->RegisterCollectable(registry_);
    exposer->RegisterCollectable(process_collector_);
    exposer_ = std::move(exposer);
    bind_address_ = bind_address;
  } catch (const std::exception& e) {
    return Internal("cannot serve metrics on " + bind_address + ": " + e.what());
  }
  LogInfo("metrics listening",
          {{"address", bind_address}, {"port", std::to_string(port())}, {"path", "/metrics"}});
  return Status::Ok();
}

int Metrics::port() const {
  if (!exposer_) return 0;
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace loyalty
