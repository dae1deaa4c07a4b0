// Prometheus metrics for a service: one registry that every component adds its families to,
// and the service's HTTP listener for operators (metrics.address), apart from the ports
// callers use so that it can be bound to a private address:
//   GET /metrics  the Prometheus text format, with the standard process_* metrics that
//                 prometheus-cpp 1.0 does not provide;
//   GET /healthz  liveness: 200 while the process answers;
//   GET /readyz   readiness: 200 while the service serves calls, else 503 naming why
//                 (starting, waiting for a writable disk, stopping).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <prometheus/registry.h>

#include "common/status.h"

namespace loyalty {

class HttpServer;
struct HttpRequest;
struct HttpResponse;

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The registry that components build their counters, gauges and histograms in. Metric
  // pointers taken from it stay valid as long as this object lives.
  prometheus::Registry& registry();
  std::shared_ptr<prometheus::Registry> shared_registry() const { return registry_; }

  // Starts the listener on bind_address ("host:port", "[v6]:port"; port 0 picks a free one).
  // Fails when the address cannot be bound or Serve already ran.
  Status Serve(const std::string& bind_address);

  // The port Serve bound, or 0 before Serve succeeded.
  int port() const;

  // What /readyz answers: ready, or not with the reason ("starting" until the first call).
  void SetReady();
  void SetNotReady(const std::string& reason);  // reason: not empty

 private:
  // The Prometheus text of every family (the registry's and process_*).
  std::string Scrape() const;
  HttpResponse Answer(const HttpRequest& request) const;

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_collector_;
  mutable std::mutex ready_mu_;
  std::string not_ready_ = "starting";  // why /readyz is 503; empty: ready. Guarded by ready_mu_
  // Last, so that the HTTP threads stop before what they read is destroyed.
  std::unique_ptr<HttpServer> server_;
};

}  // namespace loyalty
