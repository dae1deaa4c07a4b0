// Prometheus metrics for a service: one registry that every component adds its families to,
// and an HTTP /metrics endpoint that also exports the standard process_* metrics, which
// prometheus-cpp 1.0 does not provide.
#pragma once

#include <memory>
#include <string>

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include "common/status.h"

namespace loyalty {

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

  // Starts the HTTP endpoint serving /metrics on bind_address ("host:port"; port 0 picks a free
  // one). Fails, rather than throws, when the address cannot be bound or Serve already ran.
  Status Serve(const std::string& bind_address);

  // The port Serve bound, or 0 before Serve succeeded.
  int port() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_collector_;
  std::string bind_address_;
  // Last, so that the HTTP threads stop before what they read is destroyed.
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace loyalty
