// The commands of loyaltyctl: one table row per command (its usage, the flags it accepts and
// its handler). main.cc parses the command line, checks it against the row and runs the
// handler. A handler prints its result and throws UsageError or CommandFailed on failure.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "loyalty/v1/purchases.pb.h"
#include "tools/loyaltyctl/args.h"
#include "tools/loyaltyctl/ctl.h"

namespace loyalty::ctl {

struct Command {
  std::string_view name;
  std::string_view usage;    // the arguments and flags after the name, as shown to the user
  std::string_view summary;  // one line
  std::string_view group;    // heading in the usage listing
  size_t min_words = 0;      // positional arguments after the name
  size_t max_words = 0;
  std::vector<std::string_view> flags;  // besides the global ones
  bool mutating = false;                // an idempotent accrual call: takes --key
  void (*run)(Ctl&, const Args&) = nullptr;
};

const std::vector<Command>& Commands();
const Command* FindCommand(std::string_view name);
// The subcommand words of a command group ("campaign" -> "create, list, ..."); empty when
// `name` is no group.
std::string Subcommands(std::string_view name);
// The names of the idempotent commands, for the --key error: "enroll, award, ...".
std::string MutatingCommands();
void PrintUsage(std::ostream& out);

// Handlers. accrual_commands.cc: calls to loyalty.v1.AccrualService.
void RunEnroll(Ctl& ctl, const Args& args);
void RunMember(Ctl& ctl, const Args& args);
void RunBalance(Ctl& ctl, const Args& args);
void RunHistory(Ctl& ctl, const Args& args);
void RunAward(Ctl& ctl, const Args& args);
void RunAdjust(Ctl& ctl, const Args& args);
void RunHold(Ctl& ctl, const Args& args);
void RunCapture(Ctl& ctl, const Args& args);
void RunVoid(Ctl& ctl, const Args& args);
void RunErase(Ctl& ctl, const Args& args);
void RunSegments(Ctl& ctl, const Args& args);
void RunMembership(Ctl& ctl, const Args& args);
// campaign_commands.cc: the earning engine in accrual (campaigns, simulation, partners).
void RunCampaignCreate(Ctl& ctl, const Args& args);
void RunCampaignList(Ctl& ctl, const Args& args);
void RunCampaignShow(Ctl& ctl, const Args& args);
void RunCampaignEnd(Ctl& ctl, const Args& args);
void RunCampaignAudit(Ctl& ctl, const Args& args);
void RunSimulate(Ctl& ctl, const Args& args);
void RunPartners(Ctl& ctl, const Args& args);
// referral_commands.cc: calls to loyalty.v1.ReferralService.
void RunReferralCode(Ctl& ctl, const Args& args);
void RunReferralApply(Ctl& ctl, const Args& args);
void RunReferralStats(Ctl& ctl, const Args& args);
void RunReferralList(Ctl& ctl, const Args& args);
// event_commands.cc: events published to Kafka.
void RunPurchase(Ctl& ctl, const Args& args);
void RunRefund(Ctl& ctl, const Args& args);
void RunActivity(Ctl& ctl, const Args& args);
// A purchase from the words MEMBER_ID AMOUNT_MINOR and the flags --currency, --purchase-id,
// --store, --partner, --sku, --category, --quantity (purchase and simulate); a generated
// purchase id starts with id_prefix.
v1::PurchaseEvent PurchaseFromArgs(const Args& args, const std::string& id_prefix);
// store_commands.cc: a service's RocksDB, read or changed directly.
void RunOutboxDeadLetters(Ctl& ctl, const Args& args);
void RunConsumerResume(Ctl& ctl, const Args& args);
// access_commands.cc: API keys (loyalty.v1.AccessService at --accrual).
void RunApiKeyCreate(Ctl& ctl, const Args& args);
void RunApiKeyList(Ctl& ctl, const Args& args);
void RunApiKeyRevoke(Ctl& ctl, const Args& args);
void RunAudit(Ctl& ctl, const Args& args);
// demo.cc.
void RunDemo(Ctl& ctl, const Args& args);

}  // namespace loyalty::ctl
