// Events/s the referral core keeps up with while 10% of members are invitees: points_earned
// events for random members (with a refund every 50th), in batches of 2000, each batch one
// synced RocksDB write. Prints one line of figures, with the member cache's use (the
// process's RSS includes the fake accrual's map of every member, so it is not referral's).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "tests/unit/referral/test_env.h"

namespace loyalty::referral {

int Run(int64_t events, int members) {
  ReferralTestEnv env;
  for (int i = 0; i < members; ++i) {
    char phone[32];
    std::snprintf(phone, sizeof phone, "+38067%07d", i);
    env.Enroll("m" + std::to_string(i), phone);
  }
  // Every tenth member is an invitee of the member before it.
  auto apply_start = std::chrono::steady_clock::now();
  int invitees = 0;
  for (int i = 1; i < members; i += 10) {
    if (!env.Apply("m" + std::to_string(i), "m" + std::to_string(i - 1)).ok()) return 1;
    ++invitees;
  }
  double apply_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - apply_start).count();
  std::mt19937_64 rng(20261125);
  std::vector<InputMessage> batch;
  int64_t applied = 0;
  auto start = std::chrono::steady_clock::now();
  for (int64_t n = 0; n < events; ++n) {
    std::string member = "m" + std::to_string(rng() % members);
    if (n % 50 == 49) {
      batch.push_back(env.Refund(member, "r" + std::to_string(n), "p" + std::to_string(n - 1)));
    } else {
      batch.push_back(env.Purchase(member, "p" + std::to_string(n),
                                   1'000 + static_cast<int64_t>(rng() % 30'000),
                                   "s" + std::to_string(rng() % 50)));
    }
    if (batch.size() == 2000 || n + 1 == events) {
      applied += env.Feed(std::move(batch)).applied;
      batch.clear();
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const RecordCacheStats cache = env.core->MemberCacheStats();
  std::printf(
      "referral_bench events=%lld members=%d invitees=%d applied_to_followed=%lld "
      "seconds=%.2f events_per_s=%.0f pending_award_referrals=%zu apply_referral_per_s=%.0f "
      "member_cache_mb=%.0f member_cache_entries=%lld member_cache_evictions=%lld\n",
      static_cast<long long>(events), members, invitees, static_cast<long long>(applied), seconds,
      events / seconds, env.core->PendingWork(), invitees / apply_s,
      static_cast<double>(cache.bytes) / (1 << 20), static_cast<long long>(cache.entries),
      static_cast<long long>(cache.evictions));
  return 0;
}

}  // namespace loyalty::referral

int main(int argc, char** argv) {
  int64_t events = 1'000'000;
  int members = 100'000;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--events=", 9) == 0) events = std::atoll(argv[i] + 9);
    if (std::strncmp(argv[i], "--members=", 10) == 0) members = std::atoi(argv[i] + 10);
  }
  return loyalty::referral::Run(events, members);
}
