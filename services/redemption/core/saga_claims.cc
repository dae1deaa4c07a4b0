#include "services/redemption/core/saga_claims.h"

namespace loyalty::redemption {

void SagaClaims::Claim(const std::string& id) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return claimed_.count(id) == 0; });
  claimed_.insert(id);
}

bool SagaClaims::TryClaim(const std::string& id) {
  std::lock_guard lock(mu_);
  return claimed_.insert(id).second;
}

void SagaClaims::ClaimAsync(const std::string& id, std::function<void()> then) {
  {
    std::lock_guard lock(mu_);
    if (!claimed_.insert(id).second) {
      waiters_[id].push_back(std::move(then));
      return;
    }
  }
  then();
}

void SagaClaims::Unclaim(const std::string& id) {
  std::function<void()> next;
  {
    std::lock_guard lock(mu_);
    auto waiting = waiters_.find(id);
    if (waiting == waiters_.end()) {
      claimed_.erase(id);
    } else {
      // Handed over: the claim stays taken, now for the first asynchronous waiter.
      next = std::move(waiting->second.front());
      waiting->second.pop_front();
      if (waiting->second.empty()) waiters_.erase(waiting);
    }
  }
  if (next) return next();
  cv_.notify_all();
}

void SagaClaims::DropLocked(const std::string& id) {
  claimed_.erase(id);
  cv_.notify_all();
}

}  // namespace loyalty::redemption
