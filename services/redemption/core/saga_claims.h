// In-flight claims on sagas: one thread (or one asynchronous chain) drives one saga at a
// time. Claims are guarded by the core's mutex, which this class is given: the "Locked"
// calls are made with it held, the others take it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace loyalty::redemption {

class SagaClaims {
 public:
  explicit SagaClaims(std::mutex& mu) : mu_(mu) {}

  // Waits until id is free, then takes it.
  void Claim(const std::string& id);
  bool TryClaim(const std::string& id);
  // Runs then with the claim taken: at once if the saga is free, else when its holder lets
  // go. Holds no thread meanwhile (a runner thread blocked in Claim could be the one the
  // holder needs).
  void ClaimAsync(const std::string& id, std::function<void()> then);
  // Lets go, or hands the claim to the first asynchronous waiter.
  void Unclaim(const std::string& id);

  // With the mutex held: take a claim known to be free (a new saga), drop one, or ask.
  void TakeLocked(const std::string& id) { claimed_.insert(id); }
  void DropLocked(const std::string& id);
  bool HeldLocked(const std::string& id) const { return claimed_.count(id) != 0; }

 private:
  std::mutex& mu_;
  std::condition_variable cv_;
  std::set<std::string> claimed_;                                     // guarded by mu_
  std::map<std::string, std::deque<std::function<void()>>> waiters_;  // guarded by mu_
};

}  // namespace loyalty::redemption
