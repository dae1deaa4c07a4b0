// common/audit_log.h against a real store: records masked and cut, listed newest first in
// pages, filtered by principal.
#include "common/audit_log.h"

#include <gtest/gtest.h>

#include "loyalty/v1/accrual.pb.h"
#include "loyalty/v1/notification.pb.h"
#include "tests/support/temp_dir.h"

namespace loyalty {
namespace {

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::Open(dir_.path(), {kAuditCf});
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(*opened);
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(AuditLogTest, PersonalDataIsMaskedAtAnyDepth) {
  v1::EnrollMemberRequest enroll;
  enroll.set_member_id("m-1");
  enroll.set_phone("+380671234567");
  enroll.set_email("olha@example.com");
  v1::AuditRecord record = MakeAuditRecord("accrual", "/loyalty.v1.AccrualService/EnrollMember",
                                           Principal("apikey:shop"), &enroll, 1000);
  EXPECT_EQ(record.request_json().find("1234567"), std::string::npos) << record.request_json();
  EXPECT_EQ(record.request_json().find("olha"), std::string::npos) << record.request_json();
  EXPECT_NE(record.request_json().find("***67"), std::string::npos) << record.request_json();
  EXPECT_NE(record.request_json().find("m-1"), std::string::npos) << record.request_json();
  EXPECT_EQ(enroll.phone(), "+380671234567");  // the request itself is untouched

  v1::SetPreferencesRequest prefs;
  prefs.mutable_preferences()->set_email("anna@example.com");
  v1::AuditRecord nested = MakeAuditRecord("notification", "m", Principal("p"), &prefs, 1000);
  EXPECT_EQ(nested.request_json().find("anna"), std::string::npos) << nested.request_json();
}

TEST_F(AuditLogTest, ALongRequestIsCut) {
  v1::AdjustPointsRequest adjust;
  adjust.set_reason(std::string(10'000, 'x'));
  v1::AuditRecord record = MakeAuditRecord("accrual", "m", Principal("p"), &adjust, 1000);
  EXPECT_LE(record.request_json().size(), kMaxAuditRequestBytes + 3);
  EXPECT_EQ(record.request_json().substr(record.request_json().size() - 3), "…");
}

TEST_F(AuditLogTest, ListedNewestFirstInPagesAndByPrincipal) {
  for (int i = 0; i < 5; ++i) {
    WriteAudit(*store_,
               MakeAuditRecord("accrual", "m" + std::to_string(i),
                               Principal(i % 2 == 0 ? "even" : "odd"), nullptr, 1'000'000 + i));
  }
  v1::ListAuditLogRequest request;
  request.set_page_size(2);
  std::vector<std::string> methods;
  do {
    auto page = ListAuditLog(*store_, request);
    ASSERT_TRUE(page.ok()) << page.status().message();
    ASSERT_LE(page->records_size(), 2);
    for (const auto& r : page->records()) methods.push_back(r.method());
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  EXPECT_EQ(methods, (std::vector<std::string>{"m4", "m3", "m2", "m1", "m0"}));

  v1::ListAuditLogRequest odd;
  odd.set_principal("odd");
  auto page = ListAuditLog(*store_, odd);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records_size(), 2);
  EXPECT_EQ(page->records(0).method(), "m3");
  EXPECT_EQ(page->records(1).method(), "m1");

  v1::ListAuditLogRequest bad;
  bad.set_page_size(-1);
  EXPECT_EQ(ListAuditLog(*store_, bad).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace loyalty
