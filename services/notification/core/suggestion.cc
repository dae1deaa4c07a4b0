#include "services/notification/core/suggestion.h"

#include "services/notification/core/i18n.h"

namespace loyalty::notification {
namespace {

// a is a better pick than b under "cheaper is better" (cheaper, then smaller id).
bool Cheaper(const v1::Reward& a, const v1::Reward& b) {
  if (a.points_price() != b.points_price()) return a.points_price() < b.points_price();
  return a.reward_id() < b.reward_id();
}

}  // namespace

std::optional<v1::Reward> PickSuggestion(const v1::ListRewardsResponse& offers,
                                         int64_t expiring_points) {
  const v1::Reward* covering = nullptr;  // cheapest with price >= expiring_points
  const v1::Reward* dearest = nullptr;   // dearest overall (ties: smaller id)
  for (const auto& offer : offers.offers()) {
    const v1::Reward& r = offer.reward();
    if (!offer.affordable() || r.points_price() <= 0 || r.name().empty()) continue;
    if (r.points_price() >= expiring_points && (covering == nullptr || Cheaper(r, *covering))) {
      covering = &r;
    }
    if (dearest == nullptr || r.points_price() > dearest->points_price() ||
        (r.points_price() == dearest->points_price() && r.reward_id() < dearest->reward_id())) {
      dearest = &r;
    }
  }
  if (covering) return *covering;
  if (dearest) return *dearest;
  return std::nullopt;
}

void AddSuggestionVars(Vars& vars, const std::optional<v1::Reward>& reward,
                       const std::string& language) {
  vars["has_reward"] = reward ? "true" : "";
  if (!reward) return;
  vars["reward_name"] = reward->name();
  vars["reward_points"] = std::to_string(reward->points_price());
  vars["reward_points_word"] = PointsWord(language, reward->points_price());
}

}  // namespace loyalty::notification
