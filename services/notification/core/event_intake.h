// The path of one loyalty event into notifications: refuse what cannot be applied (a
// dead-letter record in the same write), dedupe by event id, forget an erased member's
// personal data, map the event to a message (mapper.h) in the member's language and zone,
// skip what they do not want, add the reward suggestion to expiring-soon messages, put what
// is over the daily cap into the digest, hold the rest until quiet hours end, and queue it.
#pragma once

#include <map>
#include <string>

#include "common/input.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/redemption.pb.h"
#include "services/notification/core/commands.h"
#include "services/notification/core/local_zone.h"
#include "services/notification/core/mapper.h"
#include "services/notification/core/modules.h"
#include "services/notification/core/txn.h"

namespace loyalty::notification {

// The rewards on offer to members of a batch's expiring-soon events, by member id.
using Offers = std::map<std::string, v1::ListRewardsResponse>;

class EventIntake {
 public:
  explicit EventIntake(Modules& modules) : m_(modules) {}

  void Apply(Txn& txn, const InputMessage& source, const Command& command, const Offers& offers,
             BatchResult& result);
  // Whether event's message could name a suggested reward: an expiring-soon event not seen
  // before. Reads the store only, so it needs no lock.
  bool MayWantOffer(const v1::LoyaltyEvent& event) const;

 private:
  void Reject(Txn& txn, const InputMessage& source, const std::string& kind,
              const std::string& reason, BatchResult& result) const;
  // Remembers event_id in txn; false if it was applied before.
  bool FirstTime(Txn& txn, const std::string& event_id) const;
  void Handle(Txn& txn, const v1::LoyaltyEvent& event, const Offers& offers, BatchResult& result);
  void EraseMember(Txn& txn, const MemberId& member, BatchResult& result);
  // Counts a capped message on the member's day; over the cap, it goes into the digest
  // instead and this returns false.
  bool WithinCap(Txn& txn, const v1::Preferences& prefs, const v1::LoyaltyEvent& event,
                 const Mapped& mapped, const LocalZone& zone, const std::string& language,
                 TimeMs now);

  Modules& m_;
};

}  // namespace loyalty::notification
