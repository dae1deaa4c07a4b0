#include "common/metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>
#include <prometheus/text_serializer.h>

#include "common/check.h"
#include "common/http_server.h"
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

Metrics::~Metrics() = default;

prometheus::Registry& Metrics::registry() { return *registry_; }

std::string Metrics::Scrape() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  std::vector<prometheus::MetricFamily> process = process_collector_->Collect();
  families.insert(families.end(), std::make_move_iterator(process.begin()),
                  std::make_move_iterator(process.end()));
  return prometheus::TextSerializer().Serialize(families);
}

void Metrics::SetReady() {
  std::lock_guard lock(ready_mu_);
  not_ready_.clear();
}

void Metrics::SetNotReady(const std::string& reason) {
  LOYALTY_CHECK(!reason.empty(), "a reason for /readyz");
  std::lock_guard lock(ready_mu_);
  not_ready_ = reason;
}

HttpResponse Metrics::Answer(const HttpRequest& request) const {
  HttpResponse response;
  response.content_type = "text/plain; charset=utf-8";
  if (request.path != "/metrics" && request.path != "/healthz" && request.path != "/readyz") {
    response.status = 404;
    response.body = "not found: serves /metrics, /healthz and /readyz\n";
    return response;
  }
  if (request.method != "GET") {
    response.status = 405;
    response.body = request.path + ": GET only\n";
    return response;
  }
  if (request.path == "/metrics") {
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = Scrape();
  } else if (request.path == "/healthz") {
    response.body = "ok\n";
  } else {
    std::lock_guard lock(ready_mu_);
    response.status = not_ready_.empty() ? 200 : 503;
    response.body = not_ready_.empty() ? "ready\n" : "not ready: " + not_ready_ + "\n";
  }
  return response;
}

Status Metrics::Serve(const std::string& bind_address) {
  if (server_) return FailedPrecondition("metrics endpoint already serving");
  HttpServer::Options options;
  options.threads = 2;  // a scraper and a probe or two
  options.max_connections = 32;
  options.max_body_bytes = 0;  // GET only
  auto server = std::make_unique<HttpServer>(
      options, nullptr, [this](const HttpRequest& request) { return Answer(request); });
  if (Status s = server->Start(bind_address); !s.ok()) {
    return Internal("cannot serve metrics on " + bind_address + ": " + s.message());
  }
  server_ = std::move(server);
  LogInfo("metrics listening", {{"address", bind_address},
                                {"port", std::to_string(port())},
                                {"paths", "/metrics /healthz /readyz"}});
  return Status::Ok();
}

int Metrics::port() const { return server_ ? server_->port() : 0; }

}  // namespace loyalty
