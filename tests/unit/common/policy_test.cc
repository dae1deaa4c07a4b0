// The roles and principals of common/auth/policy.h: deny by default, the shipped roles as
// the issue names them, a policy file that adds and replaces, and the argument limits.
#include "common/auth/policy.h"

#include <gtest/gtest.h>

namespace loyalty::auth {
namespace {

const std::string kAccrual = "/loyalty.v1.AccrualService/";
const std::string kRedemption = "/loyalty.v1.RedemptionService/";

TEST(PolicyTest, PatternsMatchExactlyOrByAPrefixEndingInAStar) {
  EXPECT_TRUE(MatchesPattern("/a.S/M", "/a.S/M"));
  EXPECT_FALSE(MatchesPattern("/a.S/M", "/a.S/MM"));
  EXPECT_TRUE(MatchesPattern("/a.S/Get*", "/a.S/GetBalance"));
  EXPECT_FALSE(MatchesPattern("/a.S/Get*", "/a.S/AdjustPoints"));
  EXPECT_TRUE(MatchesPattern("*", "/anything/At"));
}

TEST(PolicyTest, ShippedPrincipalsGetTheirRoles) {
  Policy policy = Policy::Defaults();
  EXPECT_EQ(policy.RolesOf("spiffe://loyalty/till/kyiv-01"), std::vector<std::string>{"till"});
  EXPECT_EQ(policy.RolesOf("spiffe://loyalty/service/redemption"),
            std::vector<std::string>{"service.redemption"});
  EXPECT_EQ(policy.RolesOf("spiffe://loyalty/admin/anna"), std::vector<std::string>{"admin"});
  EXPECT_TRUE(policy.RolesOf("spiffe://elsewhere/till/kyiv-01").empty());
  EXPECT_TRUE(policy.RolesOf("spiffe://loyalty/service/redemption-2").empty());
}

TEST(PolicyTest, TheTillReadsAndHoldsButNeverAdjustsOrCreatesCampaigns) {
  Policy policy = Policy::Defaults();
  std::vector<std::string> till = {"till"};
  for (const char* m : {"GetMember", "GetBalance", "HoldPoints", "CaptureHold", "VoidHold"}) {
    EXPECT_TRUE(policy.Allows(till, kAccrual + m)) << m;
  }
  for (const char* m : {"StartCheckout", "CompleteCheckout", "ValidateVoucher", "UseVoucher"}) {
    EXPECT_TRUE(policy.Allows(till, kRedemption + m)) << m;
  }
  for (const char* m : {"AdjustPoints", "CreateCampaign", "EraseMember", "AwardPoints"}) {
    EXPECT_FALSE(policy.Allows(till, kAccrual + m)) << m;
  }
}

TEST(PolicyTest, InternalServicesCallOnlyWhatTheyUse) {
  Policy policy = Policy::Defaults();
  std::vector<std::string> redemption = {"service.redemption"};
  EXPECT_TRUE(policy.Allows(redemption, kAccrual + "HoldPoints"));
  EXPECT_TRUE(policy.Allows(redemption, kAccrual + "CaptureHold"));
  EXPECT_FALSE(policy.Allows(redemption, kAccrual + "EraseMember"));
  EXPECT_FALSE(policy.Allows(redemption, kAccrual + "AdjustPoints"));
  std::vector<std::string> notification = {"service.notification"};
  EXPECT_TRUE(policy.Allows(notification, kAccrual + "GetBalance"));
  EXPECT_FALSE(policy.Allows(notification, kAccrual + "HoldPoints"));
  EXPECT_FALSE(policy.Allows({"service.accrual"}, kRedemption + "ListRewards"));
}

TEST(PolicyTest, AdminMayCallEverythingAndNobodyWithoutARole) {
  Policy policy = Policy::Defaults();
  EXPECT_TRUE(policy.Allows({"admin"}, kAccrual + "EraseMember"));
  EXPECT_FALSE(policy.Allows({}, "/grpc.health.v1.Health/Check"));
  EXPECT_TRUE(policy.Allows({"till"}, "/grpc.health.v1.Health/Check"));
  EXPECT_FALSE(policy.Allows({"no-such-role"}, kAccrual + "GetBalance"));
}

TEST(PolicyTest, ArgumentLimitsComeFromTheRolesThatAllowTheMethod) {
  Policy policy = Policy::Defaults();
  ArgumentLimits support = policy.LimitsFor({"support"}, kAccrual + "AdjustPoints");
  EXPECT_TRUE(support.CheckAdjust(5000, "s").ok());
  EXPECT_TRUE(support.CheckAdjust(-5000, "s").ok());
  Status over = support.CheckAdjust(5001, "spiffe://loyalty/support/ivan");
  EXPECT_EQ(over.code(), Code::kPermissionDenied);
  EXPECT_NE(over.message().find("delta"), std::string::npos) << over.message();
  EXPECT_NE(over.message().find("5000"), std::string::npos) << over.message();

  ArgumentLimits referral = policy.LimitsFor({"service.referral"}, kAccrual + "AwardPoints");
  EXPECT_TRUE(referral.CheckAward("referral", "r").ok());
  EXPECT_EQ(referral.CheckAward("redemption", "r").code(), Code::kPermissionDenied);
  ArgumentLimits reversal = policy.LimitsFor({"service.referral"}, kAccrual + "AdjustPoints");
  EXPECT_TRUE(reversal.CheckAdjust(-300, "r").ok());
  EXPECT_EQ(reversal.CheckAdjust(300, "r").code(), Code::kPermissionDenied);

  // A second role without limits widens them: support who is also admin is not limited.
  ArgumentLimits both = policy.LimitsFor({"support", "admin"}, kAccrual + "AdjustPoints");
  EXPECT_TRUE(both.CheckAdjust(1'000'000, "a").ok());
  EXPECT_TRUE(policy.LimitsFor({"admin"}, kAccrual + "AwardPoints").CheckAward("any", "a").ok());
}

TEST(PolicyTest, AFileAddsRolesReplacesShippedOnesAndMapsPrincipals) {
  auto policy = Policy::FromYaml(R"(
roles:
  support: {methods: ["/loyalty.v1.AccrualService/AdjustPoints"], adjust_limit: 200}
  auditor: {methods: ["/loyalty.v1.AccrualService/List*"]}
principals:
  - {match: "spiffe://loyalty/partner/acme", roles: [auditor]}
  - {match: "spiffe://loyalty/support/*", roles: [support]}
)");
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  EXPECT_EQ(policy->RolesOf("spiffe://loyalty/partner/acme"), std::vector<std::string>{"auditor"});
  EXPECT_TRUE(policy->Allows({"auditor"}, kAccrual + "ListLedger"));
  EXPECT_FALSE(policy->Allows({"auditor"}, kAccrual + "GetBalance"));
  // The replaced support role: no more GetBalance, and a lower limit.
  EXPECT_FALSE(policy->Allows({"support"}, kAccrual + "GetBalance"));
  EXPECT_EQ(policy->LimitsFor({"support"}, kAccrual + "AdjustPoints").CheckAdjust(201, "s").code(),
            Code::kPermissionDenied);
}

TEST(PolicyTest, ABadFileIsRefusedWithWhatIsWrong) {
  struct Case {
    const char* yaml;
    const char* names;
  } cases[] = {
      {"roles: {x: {methods: [GetBalance]}}", "/package.Service/Method"},
      {"roles: {x: {method: [\"*\"]}}", "unknown key 'method'"},
      {"principals: [{match: \"a\", roles: [ghost]}]", "ghost"},
      {"rules: []", "unknown key 'rules'"},
      {"roles: [", "not YAML"},
  };
  for (const auto& c : cases) {
    auto policy = Policy::FromYaml(c.yaml);
    ASSERT_FALSE(policy.ok()) << c.yaml;
    EXPECT_NE(policy.status().message().find(c.names), std::string::npos)
        << c.yaml << " -> " << policy.status().message();
  }
}

}  // namespace
}  // namespace loyalty::auth
