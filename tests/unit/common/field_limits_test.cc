// The platform's field limits: the checker on real request messages, the quoting of bad
// values, the page-size rule, and that every field of every request and input message has a
// limit of its own (so docs/api.md's table is complete).
#include "common/field_limits.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "loyalty/v1/access.pb.h"
#include "loyalty/v1/accrual.pb.h"
#include "loyalty/v1/audit.pb.h"
#include "loyalty/v1/notification.pb.h"
#include "loyalty/v1/purchases.pb.h"
#include "loyalty/v1/redemption.pb.h"
#include "loyalty/v1/referral.pb.h"

namespace loyalty {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

TEST(FieldLimitsTest, StringAtItsLimitPassesOneByteMoreIsRefusedNamingTheField) {
  v1::AwardPointsRequest request;
  request.set_member_id(std::string(limits::kIdBytes, 'm'));
  request.set_reason(std::string(limits::kTextBytes, 'r'));
  EXPECT_TRUE(CheckFieldLimits(request).ok());

  request.set_reason(std::string(limits::kTextBytes + 1, 'r'));
  Status s = CheckFieldLimits(request);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "reason: 1001 bytes, at most 1000");

  request.set_reason("ok");
  request.set_member_id(std::string(limits::kIdBytes + 1, 'm'));
  EXPECT_EQ(CheckFieldLimits(request).message(), "member_id: 129 bytes, at most 128");
}

TEST(FieldLimitsTest, NestedAndRepeatedFieldsAreNamedByTheirPath) {
  v1::CreateCampaignRequest request;
  request.mutable_campaign()->add_skus("sku-1");
  request.mutable_campaign()->add_skus(std::string(200, 's'));
  EXPECT_EQ(CheckFieldLimits(request).message(), "campaign.skus[1]: 200 bytes, at most 128");

  v1::SetMemberSegmentsRequest segments;
  for (int i = 0; i < 100; ++i) segments.add_segments("s" + std::to_string(i));
  EXPECT_TRUE(CheckFieldLimits(segments).ok());
  segments.add_segments("one-too-many");
  EXPECT_EQ(CheckFieldLimits(segments).message(), "segments: 101 values, at most 100");

  v1::CreateRewardRequest reward;
  reward.mutable_reward()->mutable_free_product()->set_sku(std::string(129, 'x'));
  EXPECT_EQ(CheckFieldLimits(reward).message(), "reward.free_product.sku: 129 bytes, at most 128");
}

TEST(FieldLimitsTest, UnknownEnumValuesAreRefusedUnlessTheCheckSkipsThem) {
  v1::ListRewardsRequest request;
  request.set_order(v1::REWARD_ORDER_NEWEST_FIRST);
  EXPECT_TRUE(CheckFieldLimits(request).ok());
  request.set_order(static_cast<v1::RewardOrder>(42));
  Status s = CheckFieldLimits(request);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "order: 42 is not a RewardOrder");
  EXPECT_TRUE(CheckFieldLimits(request, {.enums = false}).ok());

  v1::CreateCampaignRequest campaign;
  campaign.mutable_campaign()->set_effect(static_cast<v1::CampaignEffect>(9));
  EXPECT_EQ(CheckFieldLimits(campaign).message(), "campaign.effect: 9 is not a CampaignEffect");
}

TEST(FieldLimitsTest, QuoteKeepsShortValuesAndCutsLongOnesAtACharacter) {
  EXPECT_EQ(Quote("m1"), "m1");
  std::string at_limit(limits::kQuotedPrefixBytes, 'a');
  EXPECT_EQ(Quote(at_limit), at_limit);
  std::string huge(1 << 20, 'x');
  EXPECT_EQ(Quote(huge), std::string(limits::kQuotedPrefixBytes, 'x') + "…(1048576 bytes)");
  // 63 ASCII bytes and a two-byte 'ї': the cut falls inside it, so the prefix stops before.
  std::string cyrillic = std::string(limits::kQuotedPrefixBytes - 1, 'a') + "їїї";
  EXPECT_EQ(Quote(cyrillic), std::string(limits::kQuotedPrefixBytes - 1, 'a') + "…(69 bytes)");
}

TEST(FieldLimitsTest, PageSizeZeroIsTheDefaultAndOverTheMaximumIsRefused) {
  EXPECT_EQ(*PageSize(0), limits::kDefaultPageSize);
  EXPECT_EQ(*PageSize(1), 1);
  EXPECT_EQ(*PageSize(limits::kMaxPageSize), limits::kMaxPageSize);
  for (int32_t bad : {-1, limits::kMaxPageSize + 1, 100000}) {
    StatusOr<int> s = PageSize(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(s.status().message().rfind("page_size: ", 0), 0u) << s.status().message();
  }
  EXPECT_FALSE(PageSize(501, 500).ok());
}

// Every string and repeated field reachable from message, with its path.
void CollectFields(const Descriptor& message, const std::string& path,
                   std::set<const Descriptor*>& seen, std::vector<std::string>& unnamed) {
  if (!seen.insert(&message).second) return;
  for (int i = 0; i < message.field_count(); ++i) {
    const FieldDescriptor& field = *message.field(i);
    std::string name = path + std::string(field.name());
    bool string = field.cpp_type() == FieldDescriptor::CPPTYPE_STRING;
    if ((string || field.is_repeated()) && !LimitOf(field).named) unnamed.push_back(name);
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      CollectFields(*field.message_type(), name + ".", seen, unnamed);
    }
  }
}

TEST(FieldLimitsTest, EveryFieldOfEveryRequestAndInputMessageHasANamedLimit) {
  std::vector<const Descriptor*> inputs = {v1::PurchaseEvent::descriptor(),
                                           v1::RefundEvent::descriptor(),
                                           v1::ActivityEvent::descriptor()};
  for (const auto* file :
       {v1::AwardPointsRequest::descriptor()->file(), v1::RedeemRequest::descriptor()->file(),
        v1::ApplyReferralRequest::descriptor()->file(),
        v1::SetPreferencesRequest::descriptor()->file(),
        v1::CreateApiKeyRequest::descriptor()->file(),
        v1::ListAuditLogRequest::descriptor()->file()}) {
    ASSERT_EQ(file->service_count(), 1) << file->name();
    for (int m = 0; m < file->service(0)->method_count(); ++m) {
      inputs.push_back(file->service(0)->method(m)->input_type());
    }
  }
  ASSERT_GT(inputs.size(), 50u);
  std::set<const Descriptor*> seen;
  std::vector<std::string> unnamed;
  for (const Descriptor* input : inputs) {
    CollectFields(*input, std::string(input->name()) + ".", seen, unnamed);
  }
  EXPECT_TRUE(unnamed.empty()) << "fields without a limit of their own, e.g. " << unnamed[0] << " ("
                               << unnamed.size() << ")";
}

}  // namespace
}  // namespace loyalty
