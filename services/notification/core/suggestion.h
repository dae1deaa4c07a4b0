// Which reward an expiring-soon message suggests, from the member's offers (redemption's
// ListRewards for that member).
//
// Only rewards the member can afford now are suggested (the message tells them how to use
// points they are about to lose, not what to save for). Among those:
//   - the cheapest one whose price covers the expiring points: it saves every point that would
//     be lost at the smallest cost to the rest of the balance;
//   - if none covers them, the dearest affordable one: it saves as many as possible.
// Ties in price go to the smaller reward_id, so the choice is deterministic. No affordable
// reward: no suggestion.
#pragma once

#include <cstdint>
#include <optional>

#include "loyalty/v1/redemption.pb.h"
#include "services/notification/core/templates.h"

namespace loyalty::notification {

std::optional<v1::Reward> PickSuggestion(const v1::ListRewardsResponse& offers,
                                         int64_t expiring_points);

// The template variables of a suggestion: has_reward ("true" or empty), reward_name,
// reward_points and reward_points_word (plural in language). Without one only has_reward is
// set (empty), so that the {{#has_reward}} section drops out.
void AddSuggestionVars(Vars& vars, const std::optional<v1::Reward>& reward,
                       const std::string& language);

}  // namespace loyalty::notification
