#include "common/auth/policy_file.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "common/log.h"

namespace loyalty::auth {
namespace {

constexpr int64_t kMaxPolicyBytes = 4 << 20;

struct FileStamp {
  int64_t mtime_ns = -1;
  int64_t size = -1;
};

FileStamp StampOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<int64_t>(st.st_size)};
}

StatusOr<Policy> ReadPolicy(const std::string& path) {
  if (StampOf(path).size > kMaxPolicyBytes) {
    return FailedPrecondition("auth.policy_file " + path + ": larger than 4 MiB");
  }
  std::ifstream in(path);
  if (!in) return FailedPrecondition("auth.policy_file: cannot read '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  auto policy = Policy::FromYaml(text.str());
  if (!policy.ok()) {
    return FailedPrecondition("auth.policy_file " + path + ": " + policy.status().message());
  }
  return policy;
}

}  // namespace

ConfigKeys PolicyKeys() {
  return {
      StringKey("auth.policy_file", "",
                "YAML policy: roles and the principals that hold them (docs/security.md); "
                "empty: the shipped roles and principals"),
      IntKey("auth.policy_refresh_seconds", 5, "how often the policy file is checked for a change"),
      StringKey("auth.api_keys_topic", "loyalty.apikeys.v1",
                "compacted topic the API keys are read from (docs/security.md, API keys); "
                "empty: no API keys here, a bearer token is refused"),
      IntKey("auth.api_keys_load_timeout_seconds", 10,
             "at start, how long gRPC waits for the API keys topic to be read before serving"),
  };
}

StatusOr<std::unique_ptr<PolicyFile>> PolicyFile::Open(const Config& config,
                                                       prometheus::Registry& registry) {
  std::unique_ptr<PolicyFile> file(new PolicyFile());
  file->path_ = config.GetString("auth.policy_file");
  const int64_t refresh = config.GetInt("auth.policy_refresh_seconds");
  if (refresh < 1 || refresh > 3600) {
    return InvalidArgument("auth.policy_refresh_seconds: " + std::to_string(refresh) +
                           " is not in 1..3600");
  }
  file->refresh_ = std::chrono::seconds(refresh);
  auto& reloads = prometheus::BuildCounter()
                      .Name("auth_policy_reloads_total")
                      .Help(
                          "Policy file reads after a change: applied, or rejected (the "
                          "policy in force stays; see the log)")
                      .Register(registry);
  file->applied_ = &reloads.Add({{"result", "applied"}});
  file->rejected_ = &reloads.Add({{"result", "rejected"}});
  if (file->path_.empty()) {
    file->source_ = std::make_shared<PolicySource>(Policy::Defaults());
    return file;
  }
  FileStamp stamp = StampOf(file->path_);
  auto policy = ReadPolicy(file->path_);
  if (!policy.ok()) return policy.status();
  file->source_ = std::make_shared<PolicySource>(std::move(*policy));
  file->seen_mtime_ns_ = stamp.mtime_ns;
  file->seen_size_ = stamp.size;
  return file;
}

PolicyFile::~PolicyFile() {
  if (watcher_) watcher_->Stop();
}

bool PolicyFile::ReloadIfChanged() {
  if (path_.empty()) return false;
  FileStamp stamp = StampOf(path_);
  if (stamp.mtime_ns == seen_mtime_ns_ && stamp.size == seen_size_) return false;
  seen_mtime_ns_ = stamp.mtime_ns;
  seen_size_ = stamp.size;
  auto policy = ReadPolicy(path_);
  if (!policy.ok()) {
    rejected_->Increment();
    LogError("policy file rejected; the policy in force stays",
             {{"error", policy.status().message()}});
    if (on_reload_) on_reload_(false, policy.status().message());
    return false;
  }
  source_->Set(std::move(*policy));
  applied_->Increment();
  LogInfo("policy file applied", {{"path", path_}});
  if (on_reload_) on_reload_(true, path_);
  return true;
}

void PolicyFile::Start() {
  if (path_.empty() || watcher_) return;
  watcher_ = std::make_unique<PeriodicTask>(refresh_, [this] { ReloadIfChanged(); });
  watcher_->Start();
}

}  // namespace loyalty::auth
