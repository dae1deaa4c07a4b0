#include "tools/loyaltyctl/commands.h"

#include <iostream>

namespace loyalty::ctl {
namespace {

void RunHelp(Ctl&, const Args&) { PrintUsage(std::cout); }

constexpr std::string_view kAccrualGroup = "Members and points (gRPC to accrual)";
constexpr std::string_view kEventGroup = "Point-of-sale events (published to Kafka)";
constexpr std::string_view kOtherGroup = "Other";

}  // namespace

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"enroll",
       "[--phone=P] [--email=E] [--member-id=ID] [--language=uk]",
       "enroll a member (a phone or an email is required)",
       kAccrualGroup,
       0,
       0,
       {"phone", "email", "member-id", "language"},
       true,
       RunEnroll},
      {"member", "MEMBER_ID", "show a member", kAccrualGroup, 1, 1, {}, false, RunMember},
      {"balance",
       "MEMBER_ID",
       "show a member's balances and tier",
       kAccrualGroup,
       1,
       1,
       {},
       false,
       RunBalance},
      {"history",
       "MEMBER_ID [--limit=N] [--page-token=T]",
       "list ledger entries, newest first (N: 1..1000, default 50)",
       kAccrualGroup,
       1,
       1,
       {"limit", "page-token"},
       false,
       RunHistory},
      {"award",
       "MEMBER_ID POINTS --reason=TEXT [--source=S]",
       "award bonus points (source: referral, goodwill, ...)",
       kAccrualGroup,
       2,
       2,
       {"reason", "source"},
       true,
       RunAward},
      {"adjust",
       "MEMBER_ID DELTA --reason=TEXT --actor=WHO",
       "correct a balance by DELTA points (may be negative, e.g. -50)",
       kAccrualGroup,
       2,
       2,
       {"reason", "actor"},
       true,
       RunAdjust},
      {"hold",
       "MEMBER_ID POINTS [--ttl=SECONDS] [--reference=R]",
       "reserve points for a redemption (ttl 0 or absent: the service's default)",
       kAccrualGroup,
       2,
       2,
       {"ttl", "reference"},
       true,
       RunHold},
      {"capture",
       "HOLD_ID [POINTS]",
       "spend a hold, all of it or POINTS of it (the rest is released)",
       kAccrualGroup,
       1,
       2,
       {},
       true,
       RunCapture},
      {"void", "HOLD_ID", "release a hold", kAccrualGroup, 1, 1, {}, true, RunVoid},
      {"erase",
       "MEMBER_ID",
       "erase a member's personal data (cannot be undone)",
       kAccrualGroup,
       1,
       1,
       {},
       true,
       RunErase},
      {"purchase",
       "MEMBER_ID AMOUNT_MINOR [--currency=UAH] [--purchase-id=ID] [--store=S] [--partner=P]\n"
       "          [--sku=S --category=C --quantity=N]",
       "publish a PurchaseEvent (amount in minor units: 12345 = 123.45); prints the purchase id",
       kEventGroup,
       2,
       2,
       {"currency", "purchase-id", "store", "partner", "sku", "category", "quantity"},
       false,
       RunPurchase},
      {"refund",
       "PURCHASE_ID AMOUNT_MINOR --member=MEMBER_ID [--refund-id=ID]",
       "publish a RefundEvent for (part of) a purchase",
       kEventGroup,
       2,
       2,
       {"member", "refund-id"},
       false,
       RunRefund},
      {"demo",
       "[--members=20] [--purchases=200] [--seed=1]",
       "local demo feed: enroll demo-0001..., publish purchases and ~5% refunds, wait, show "
       "balances\n"
       "(the same seed publishes the same purchase ids again, which accrual deduplicates)",
       kOtherGroup,
       0,
       0,
       {"members", "purchases", "seed"},
       false,
       RunDemo},
      {"help", "", "this listing (also --help)", kOtherGroup, 0, 0, {}, false, RunHelp},
  };
  return commands;
}

const Command* FindCommand(std::string_view name) {
  for (const auto& command : Commands()) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

void PrintUsage(std::ostream& out) {
  out << "usage: loyaltyctl COMMAND [ARGUMENTS] [FLAGS]\n";
  std::string_view group;
  for (const auto& command : Commands()) {
    if (command.group != group) {
      group = command.group;
      out << "\n" << group << ":\n";
    }
    out << "  " << command.name;
    if (!command.usage.empty()) out << " " << command.usage;
    out << "\n";
    // Indent every line of the summary under the command.
    std::string_view summary = command.summary;
    while (!summary.empty()) {
      size_t newline = summary.find('\n');
      out << "      " << summary.substr(0, newline) << "\n";
      summary = newline == std::string_view::npos ? "" : summary.substr(newline + 1);
    }
  }
  out << "\n"
         "Global flags (anywhere on the command line; --flag=value or --flag value):\n"
         "  --accrual=HOST:PORT  accrual's gRPC address ($LOYALTY_ACCRUAL_ADDR, else "
         "127.0.0.1:50051)\n"
         "  --brokers=ADDR       Kafka bootstrap servers ($LOYALTY_KAFKA_BROKERS, else the "
         "contents of\n"
         "                       .run/bootstrap if it exists, else 127.0.0.1:9092)\n"
         "  --json               print responses as proto3 JSON, one object per line\n"
         "  --timeout=SECONDS    deadline of each call and publish (default 10)\n"
         "  --key=KEY            idempotency key of a mutating call (default: a fresh one, "
         "printed;\n"
         "                       repeat a call with the printed key to retry it safely)\n"
         "\n"
         "Exit status: 0 done, 1 the call or publish failed, 2 usage error.\n";
}

}  // namespace loyalty::ctl
