#include "tools/loyaltyctl/commands.h"

#include <iostream>
#include <string>

namespace loyalty::ctl {
namespace {

void RunHelp(Ctl&, const Args&) { PrintUsage(std::cout); }

constexpr std::string_view kAccrualGroup = "Members and points (gRPC to accrual)";
constexpr std::string_view kEngineGroup = "Campaigns and the earning engine (gRPC to accrual)";
constexpr std::string_view kReferralGroup = "Referrals (gRPC to referral)";
constexpr std::string_view kEventGroup = "Events from tills, shops and apps (published to Kafka)";
constexpr std::string_view kStoreGroup =
    "Operations on a service's store (--data-dir=PATH or --service=NAME for ./data/NAME)";
constexpr std::string_view kAccessGroup = "API keys and the audit log (gRPC; the admin role)";
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
      {"member",
       "MEMBER_ID",
       "show a member: balances, next expiry, tier progress and benefits, badges, segments",
       kAccrualGroup,
       1,
       1,
       {},
       false,
       RunMember},
      {"balance",
       "MEMBER_ID",
       "show a member's balances (pending and expired too), next expiry and tier progress",
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
      {"segments",
       "MEMBER_ID SEG1,SEG2",
       "replace a member's segments (campaigns can target them); '-' clears them",
       kAccrualGroup,
       2,
       2,
       {},
       true,
       RunSegments},
      {"membership",
       "MEMBER_ID TIER DAYS [--payment-ref=R]",
       "record a paid membership: the member holds TIER for DAYS (extends the same tier)",
       kAccrualGroup,
       3,
       3,
       {"payment-ref"},
       true,
       RunMembership},
      {"campaign create",
       "--name=N --effect=multiplier|fixed|line --value=V --actor=WHO [--id=ID]\n"
       "          [--starts=T] [--ends=T] [--category=a,b] [--sku=a,b] [--store=a,b]\n"
       "          [--partner=a,b] [--tier=a,b] [--segment=a,b] [--min-basket=MINOR]\n"
       "          [--cap=POINTS] [--budget=POINTS] [--priority=N] [--exclusive]",
       "create a campaign. V for multiplier: 2x, 1.5x or basis points (20000 doubles); for\n"
       "fixed: points per purchase; for line: 5% or basis points of the matching lines.\n"
       "T: 2026-01-01, 2026-01-01T09:30:00Z, 2026-01-01T09:30+02:00 or unix ms (no zone:\n"
       "UTC); without --starts it starts at once. Lists (a,b) filter, empty: any. --cap is\n"
       "per member, --budget in total; higher --priority first; an --exclusive campaign\n"
       "that applies shuts out the lower-priority ones",
       kEngineGroup,
       0,
       0,
       {"name", "effect", "value", "actor", "id", "starts", "ends", "category", "sku", "store",
        "partner", "tier", "segment", "min-basket", "cap", "budget", "priority", "exclusive"},
       true,
       RunCampaignCreate},
      {"campaign list",
       "[--all]",
       "list campaigns (--all: ended ones too)",
       kEngineGroup,
       0,
       0,
       {"all"},
       false,
       RunCampaignList},
      {"campaign show",
       "CAMPAIGN_ID",
       "show a campaign with its budget spent",
       kEngineGroup,
       1,
       1,
       {},
       false,
       RunCampaignShow},
      {"campaign end",
       "CAMPAIGN_ID --actor=WHO",
       "end a campaign now (for good)",
       kEngineGroup,
       1,
       1,
       {"actor"},
       true,
       RunCampaignEnd},
      {"campaign audit",
       "CAMPAIGN_ID",
       "who created, changed and ended a campaign, and when",
       kEngineGroup,
       1,
       1,
       {},
       false,
       RunCampaignAudit},
      {"simulate",
       "MEMBER_ID AMOUNT_MINOR [--currency=UAH] [--store=S] [--partner=P]\n"
       "          [--sku=S --category=C --quantity=N]",
       "dry run of a purchase: the points it would earn, base and each campaign's share",
       kEngineGroup,
       2,
       2,
       {"currency", "store", "partner", "sku", "category", "quantity"},
       false,
       RunSimulate},
      {"partners",
       "",
       "partners' earn rates and figures (purchases, points issued and clawed back)",
       kEngineGroup,
       0,
       0,
       {},
       false,
       RunPartners},
      {"referral code",
       "MEMBER_ID",
       "a member's referral code to share",
       kReferralGroup,
       1,
       1,
       {},
       false,
       RunReferralCode},
      {"referral apply",
       "INVITEE_ID CODE",
       "attribute a new member to the referrer whose code it is",
       kReferralGroup,
       2,
       2,
       {},
       true,
       RunReferralApply},
      {"referral stats",
       "MEMBER_ID",
       "a member's referrals by status and the points they earned",
       kReferralGroup,
       1,
       1,
       {},
       false,
       RunReferralStats},
      {"referral list",
       "MEMBER_ID [--limit=N] [--page-token=T]",
       "the referrals made with a member's codes, oldest first",
       kReferralGroup,
       1,
       1,
       {"limit", "page-token"},
       false,
       RunReferralList},
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
      {"activity",
       "MEMBER_ID TYPE [--object=ID] [--activity-id=ID]",
       "publish an ActivityEvent (TYPE: review, social_share, video_view, check_in, survey,\n"
       "birthday or another type accrual has a rule for); prints the activity id",
       kEventGroup,
       2,
       2,
       {"object", "activity-id"},
       false,
       RunActivity},
      {"outbox dead-letters",
       "--data-dir=PATH|--service=NAME [--limit=100]",
       "list the outbox records the broker refused for good (too large, invalid), oldest "
       "first;\nreads the store of a running service",
       kStoreGroup,
       0,
       0,
       {"data-dir", "service", "limit"},
       false,
       RunOutboxDeadLetters},
      {"consumer resume",
       "--data-dir=PATH|--service=NAME --topic=T --partition=P --offset=earliest|latest|N",
       "store where a partition stopped by an offset out of range resumes (N within the log);\n"
       "the service must be stopped, and reads from there when started (docs/operations.md)",
       kStoreGroup,
       0,
       0,
       {"data-dir", "service", "topic", "partition", "offset"},
       false,
       RunConsumerResume},
      {"apikey create",
       "NAME --roles=ROLE[,ROLE] [--expires=TIME]",
       "create an API key for a caller without a certificate; prints its secret once\n"
       "(NAME: [a-z0-9._-], the principal is apikey:NAME; TIME: 2027-01-01 or unix ms)",
       kAccessGroup,
       1,
       1,
       {"roles", "expires"},
       false,
       RunApiKeyCreate},
      {"apikey list",
       "[--all]",
       "list the API keys in force (--all: the revoked and expired too)",
       kAccessGroup,
       0,
       0,
       {"all"},
       false,
       RunApiKeyList},
      {"apikey revoke",
       "KEY_ID",
       "revoke an API key: every service refuses it within seconds",
       kAccessGroup,
       1,
       1,
       {},
       false,
       RunApiKeyRevoke},
      {"audit",
       "[--address=HOST:PORT] [--principal=P] [--limit=N] [--page-token=T]",
       "the audit log of a service's administrative changes, newest first (default: accrual's;\n"
       "--address: another service's gRPC port)",
       kAccessGroup,
       0,
       0,
       {"address", "principal", "limit", "page-token"},
       false,
       RunAudit},
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

std::string Subcommands(std::string_view name) {
  std::string out;
  for (const auto& command : Commands()) {
    std::string_view full = command.name;
    if (full.size() > name.size() && full.substr(0, name.size()) == name &&
        full[name.size()] == ' ') {
      if (!out.empty()) out += ", ";
      out += std::string(full.substr(name.size() + 1));
    }
  }
  return out;
}

std::string MutatingCommands() {
  std::string out;
  for (const auto& command : Commands()) {
    if (!command.mutating) continue;
    if (!out.empty()) out += ", ";
    out += std::string(command.name);
  }
  return out;
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
         "  --referral=HOST:PORT referral's gRPC address ($LOYALTY_REFERRAL_ADDR, else "
         "127.0.0.1:50053)\n"
         "  --brokers=ADDR       Kafka bootstrap servers ($LOYALTY_KAFKA_BROKERS, else the "
         "contents of\n"
         "                       .run/bootstrap if it exists, else 127.0.0.1:9092); TLS and SASL\n"
         "                       from the services' variables: LOYALTY_KAFKA_SECURITY_PROTOCOL,\n"
         "                       LOYALTY_KAFKA_SASL_MECHANISM, LOYALTY_KAFKA_SASL_USERNAME,\n"
         "                       LOYALTY_KAFKA_SASL_PASSWORD, LOYALTY_KAFKA_SSL_*,\n"
         "                       LOYALTY_KAFKA_CLIENT_PROPERTIES (docs/operations.md)\n"
         "  --json               print responses as proto3 JSON, one object per line\n"
         "  --timeout=SECONDS    deadline of each call and publish (default 10)\n"
         "  --key=KEY            idempotency key of a mutating call (default: a fresh one, "
         "printed;\n"
         "                       repeat a call with the printed key to retry it safely)\n"
         "  --tls-cert=FILE      client certificate for mutual TLS ($LOYALTY_CTL_TLS_CERT, "
         "else\n"
         "                       .run/pki/loyaltyctl.pem if it exists)\n"
         "  --tls-key=FILE       its private key ($LOYALTY_CTL_TLS_KEY, else "
         ".run/pki/loyaltyctl.key)\n"
         "  --tls-ca=FILE        CA the services' certificates chain to ($LOYALTY_CTL_TLS_CA, "
         "else\n"
         "                       .run/pki/ca.pem)\n"
         "  --insecure           plain-text gRPC, for services run with grpc.insecure "
         "($LOYALTY_CTL_INSECURE=1)\n"
         "  --api-key=SECRET     call as an API key's principal: sent as authorization: Bearer\n"
         "                       ($LOYALTY_CTL_API_KEY; the channel still checks --tls-ca)\n"
         "\n"
         "Exit status: 0 done, 1 the call or publish failed, 2 usage error.\n";
}

}  // namespace loyalty::ctl
