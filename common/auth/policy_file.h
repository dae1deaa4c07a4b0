// The policy a service enforces, from the file named by auth.policy_file (the shipped
// defaults when none is named), read again whenever the file changes: a policy changes
// without a restart. A file that cannot be read or does not parse at start stops the service;
// later, it keeps the policy in force, is logged, and counts in
// auth_policy_reloads_total{result="rejected"}.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/auth/authorizer.h"
#include "common/config.h"
#include "common/periodic_task.h"

namespace loyalty::auth {

// auth.policy_file, auth.policy_refresh_seconds.
ConfigKeys PolicyKeys();

class PolicyFile {
 public:
  // Reads the file (or takes the defaults) now. FAILED_PRECONDITION with the reason if it
  // cannot be read or parsed.
  static StatusOr<std::unique_ptr<PolicyFile>> Open(const Config& config,
                                                    prometheus::Registry& registry);
  ~PolicyFile();

  std::shared_ptr<PolicySource> source() const { return source_; }
  // Reads the file again if its modification time or size changed; true if a new policy
  // took effect. Runs on its own thread every auth.policy_refresh_seconds after Start.
  bool ReloadIfChanged();
  // Told of every reload after the start, applied or rejected (with the reason), on the
  // watcher's thread: for the audit log. Set before Start.
  using ReloadObserver = std::function<void(bool applied, const std::string& detail)>;
  void SetOnReload(ReloadObserver observer) { on_reload_ = std::move(observer); }
  void Start();

 private:
  PolicyFile() = default;
  std::string path_;
  std::chrono::milliseconds refresh_{5000};
  std::shared_ptr<PolicySource> source_;
  int64_t seen_mtime_ns_ = -1;
  int64_t seen_size_ = -1;
  prometheus::Counter* applied_ = nullptr;
  prometheus::Counter* rejected_ = nullptr;
  ReloadObserver on_reload_;
  std::unique_ptr<PeriodicTask> watcher_;
};

}  // namespace loyalty::auth
