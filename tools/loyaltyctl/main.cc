// loyaltyctl: the operator CLI of the loyalty platform. Calls accrual over gRPC (members,
// balances, the ledger, awards, adjustments, holds, campaigns, segments, memberships), calls
// referral over gRPC (codes, attribution, stats), publishes events to Kafka (purchases,
// refunds, activities), reads and fixes a service's store (outbox dead letters, the resume
// offset of a stopped consumer partition) and runs a demo feed for local runs. `loyaltyctl help`
// lists it all.
//
// Exit status: 0 done, 1 a call or publish failed, 2 usage error.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "tools/loyaltyctl/args.h"
#include "tools/loyaltyctl/commands.h"
#include "tools/loyaltyctl/ctl.h"

namespace loyalty::ctl {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

bool IsGlobalFlag(const std::string& flag) {
  for (std::string_view global : kGlobalFlags) {
    if (global == flag) return true;
  }
  return false;
}

// Checks the command line against the command's row of the table.
void CheckArgs(const Command& command, const Args& args) {
  for (const auto& [flag, value] : args.flags()) {
    if (IsGlobalFlag(flag)) continue;
    bool known = false;
    for (std::string_view allowed : command.flags) known = known || allowed == flag;
    if (!known) {
      throw UsageError("unknown flag --" + flag + " for " + std::string(command.name));
    }
  }
  if (args.Has("key") && !command.mutating) {
    throw UsageError("--key applies to the idempotent calls (" + MutatingCommands() + "), not to " +
                     std::string(command.name));
  }
  size_t count = args.words().size();
  if (count < command.min_words || count > command.max_words) {
    throw UsageError(
        std::string(command.name) + " takes " +
        (command.min_words == command.max_words
             ? std::to_string(command.min_words)
             : std::to_string(command.min_words) + " to " + std::to_string(command.max_words)) +
        " argument" + (command.max_words == 1 ? "" : "s") + ", got " + std::to_string(count));
  }
}

int Main(int argc, char** argv) {
  const Command* command = nullptr;
  try {
    // Switches: the global ones and those of campaign create and campaign list.
    Args args = Args::Parse(std::vector<std::string>(argv + 1, argv + argc),
                            {"json", "help", "insecure", "exclusive", "all"});
    if (args.Has("help") || args.command() == "help") {
      PrintUsage(std::cout);
      return 0;
    }
    if (args.command().empty()) {
      PrintUsage(std::cerr);
      return kExitUsage;
    }
    // A command group ("campaign", "referral") takes its subcommand from the next word.
    if (std::string subcommands = Subcommands(args.command()); !subcommands.empty()) {
      if (args.words().empty()) {
        throw UsageError(args.command() + " needs a subcommand: " + subcommands);
      }
      if (FindCommand(args.command() + " " + args.words()[0]) == nullptr) {
        throw UsageError(args.command() + " has no subcommand '" + args.words()[0] + "' (" +
                         subcommands + ")");
      }
      args.JoinSubcommand();
    }
    command = FindCommand(args.command());
    if (command == nullptr) throw UsageError("unknown command '" + args.command() + "'");
    CheckArgs(*command, args);
    Ctl ctl(GlobalOptions::From(args));
    command->run(ctl, args);
    return 0;
  } catch (const UsageError& e) {
    std::cerr << "loyaltyctl: " << e.what() << "\n";
    if (command != nullptr) {
      std::cerr << "usage: loyaltyctl " << command->name << " " << command->usage << "\n";
    } else {
      std::cerr << "run 'loyaltyctl help' for the commands\n";
    }
    return kExitUsage;
  } catch (const CommandFailed& e) {
    std::cerr << "loyaltyctl: " << e.what() << "\n";
    return kExitFailed;
  }
}

}  // namespace
}  // namespace loyalty::ctl

int main(int argc, char** argv) { return loyalty::ctl::Main(argc, argv); }
