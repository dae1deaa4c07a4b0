// accrual as a real process behind the dev broker; kcat publishes as a point-of-sale would,
// promtool checks the metrics exposition.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "loyalty/v1/purchases.pb.h"
#include "tests/integration/accrual_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace loyalty::testing {
namespace {

class AccrualIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    accrual.Start();
    client = std::make_unique<AccrualClient>(accrual.grpc_address());
  }

  // Publishes "key|json" lines with kcat, the way an outside producer would.
  void KcatPublish(const std::string& topic, const std::vector<std::string>& lines) {
    std::string file = dir.Sub("lines-" + std::to_string(++files_));
    std::ofstream out(file);
    for (const auto& line : lines) out << line << "\n";
    out.close();
    int code = 0;
    std::string output = RunShell(
        "kcat -b " + kafka.bootstrap() + " -P -t " + topic + " -K '|' -l " + file + " 2>&1", &code);
    ASSERT_EQ(code, 0) << output;
  }

  std::vector<std::string> KcatRead(const std::string& topic, const std::string& format) {
    std::string output = RunShell("kcat -b " + kafka.bootstrap() + " -C -t " + topic +
                                  " -o beginning -e -q -f '" + format + "' 2>/dev/null");
    std::vector<std::string> lines;
    std::stringstream ss(output);
    for (std::string line; std::getline(ss, line);) {
      if (!line.empty()) lines.push_back(line);
    }
    return lines;
  }

  int64_t Available(const std::string& member_id) {
    v1::Balance balance;
    return client->Balance(member_id, &balance).ok() ? balance.available() : -1;
  }

  TempDir dir;
  DevKafka kafka{dir.Sub("kafka")};
  ServiceProcess accrual{"accrual", dir.path(), kafka.bootstrap()};
  std::unique_ptr<AccrualClient> client;
  int files_ = 0;
};

TEST_F(AccrualIntegrationTest, KcatFeedWithDuplicatesRefundsAndGarbageComesOutExact) {
  ASSERT_TRUE(client->Enroll("m1", "+380671110001").ok());
  ASSERT_TRUE(client->Enroll("m2", "+380671110002").ok());

  KcatPublish(
      "loyalty.purchases.v1",
      {
          R"(m1|{"purchaseId":"p1","memberId":"m1","amountMinor":"10000","currency":"UAH"})",
          R"(m1|{"purchaseId":"p1","memberId":"m1","amountMinor":"10000","currency":"UAH"})",
          R"(m2|{"purchaseId":"p2","memberId":"m2","amountMinor":"25050","currency":"UAH","storeId":"s1","lines":[{"sku":"A","category":"food","quantity":"2","unitPriceMinor":"12525"}]})",
          "m2|this is not a purchase",
          R"(m1|{"purchaseId":"p3","memberId":"m1","amountMinor":"5000","currency":"EUR"})",
          R"(ghost|{"purchaseId":"p4","memberId":"ghost","amountMinor":"5000","currency":"UAH"})",
      });
  KcatPublish("loyalty.refunds.v1",
              {
                  R"(m1|{"refundId":"r1","purchaseId":"p1","memberId":"m1","amountMinor":"5000"})",
                  R"(m1|{"refundId":"r1","purchaseId":"p1","memberId":"m1","amountMinor":"5000"})",
              });
  // A purchase in protobuf binary, one file one message.
  v1::PurchaseEvent binary;
  binary.set_purchase_id("p5");
  binary.set_member_id("m2");
  binary.set_amount_minor(10'000);
  binary.set_currency("UAH");
  std::string file = dir.Sub("p5.bin");
  std::ofstream(file, std::ios::binary) << binary.SerializeAsString();
  int code = 0;
  RunShell("kcat -b " + kafka.bootstrap() + " -P -t loyalty.purchases.v1 -k m2 " + file, &code);
  ASSERT_EQ(code, 0);

  // 1% of 100.00 = 100, half refunded -> 50; 1% of 250.50 + 1% of 100.00 = 250 + 100.
  EXPECT_TRUE(Eventually([&] { return Available("m1") == 50 && Available("m2") == 350; }))
      << "m1=" << Available("m1") << " m2=" << Available("m2") << "\n"
      << accrual.process().LogTail();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // duplicates had their chance
  EXPECT_EQ(Available("m1"), 50);
  EXPECT_EQ(Available("m2"), 350);

  std::vector<std::string> dead;
  ASSERT_TRUE(Eventually([&] {
    dead = KcatRead("loyalty.purchases.v1.dlq", "%h\\n");
    return dead.size() >= 3;
  }));
  ASSERT_EQ(dead.size(), 3u);
  std::string all;
  for (const auto& d : dead) all += d + "\n";
  EXPECT_NE(all.find("reason_kind=undecodable"), std::string::npos) << all;
  EXPECT_NE(all.find("currency: 'EUR' is not the program currency UAH"), std::string::npos) << all;
  EXPECT_NE(all.find("reason_kind=unknown_member"), std::string::npos) << all;

  // Events: m1 enrolled, earned, first-purchase milestone, reversed; m2 enrolled, earned,
  // milestone, earned.
  std::vector<std::string> keys;
  ASSERT_TRUE(Eventually([&] {
    keys = KcatRead("loyalty.events.v1", "%k\\n");
    return keys.size() >= 8;
  }));
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "m1"), 4);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "m2"), 4);
}

TEST_F(AccrualIntegrationTest, GrpcErrorsCarryTheCodeAndNameTheField) {
  v1::Member member;
  grpc::Status bad = client->Enroll("m1", "12345", &member);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.error_message().rfind("phone:", 0), 0u) << bad.error_message();

  v1::Balance balance;
  EXPECT_EQ(client->Balance("nobody", &balance).error_code(), grpc::StatusCode::NOT_FOUND);

  ASSERT_TRUE(client->Enroll("m1", "+380671110001").ok());
  v1::HoldPointsRequest hold;
  hold.set_member_id("m1");
  hold.set_points(10);
  hold.set_idempotency_key("h1");
  v1::Hold response;
  {
    grpc::ClientContext context;
    grpc::Status s = client->stub().HoldPoints(&context, hold, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  }
  v1::AwardPointsRequest award;
  award.set_member_id("m1");
  award.set_points(10);
  award.set_reason("test");
  award.set_idempotency_key("a1");
  v1::LedgerEntry entry;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(client->stub().AwardPoints(&context, award, &entry).ok());
  }
  award.set_points(11);
  {
    grpc::ClientContext context;
    grpc::Status s = client->stub().AwardPoints(&context, award, &entry);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
    EXPECT_EQ(s.error_message().rfind("idempotency_key:", 0), 0u);
  }
}

// The 1 MB reason and reference of issue 13: refused over real gRPC, by the blocking and the
// callback handlers alike, before they can become events larger than the broker takes.
TEST_F(AccrualIntegrationTest, OverLimitStringsAreInvalidArgumentNamingTheField) {
  ASSERT_TRUE(client->Enroll("m1", "+380671110001").ok());
  v1::AwardPointsRequest award;
  award.set_member_id("m1");
  award.set_points(10);
  award.set_reason(std::string(1 << 20, 'r'));
  award.set_idempotency_key("a1");
  v1::LedgerEntry entry;
  {
    grpc::ClientContext context;
    grpc::Status s = client->stub().AwardPoints(&context, award, &entry);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), "reason: 1048576 bytes, at most 1000");
  }
  v1::HoldPointsRequest hold;
  hold.set_member_id("m1");
  hold.set_points(1);
  hold.set_reference(std::string(1 << 20, 'o'));
  hold.set_idempotency_key("h1");
  v1::Hold held;
  {
    grpc::ClientContext context;
    grpc::Status s = client->stub().HoldPoints(&context, hold, &held);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), "reference: 1048576 bytes, at most 256");
  }
}

TEST_F(AccrualIntegrationTest, MetricsPassPromtoolAndCoverTheService) {
  ASSERT_TRUE(client->Enroll("m1", "+380671110001").ok());
  KcatPublish("loyalty.purchases.v1",
              {R"(m1|{"purchaseId":"p1","memberId":"m1","amountMinor":"10000","currency":"UAH"})",
               "m1|garbage"});
  ASSERT_TRUE(Eventually([&] { return Available("m1") == 100; }));
  std::string metrics;
  ASSERT_TRUE(Eventually([&] {
    metrics = HttpGet(accrual.metrics_port(), "/metrics");
    // The relay's first publish is acknowledged later than the balance changes (on a real
    // cluster acks=all waits for the replicas): wait for it too.
    return metrics.find("kafka_messages_dead_lettered_total{") != std::string::npos &&
           metrics.find("accrual_members 1") != std::string::npos &&
           metrics.find("outbox_published_total{") != std::string::npos;
  })) << metrics;
  for (const char* name :
       {"grpc_server_handled_total{", "grpc_server_handling_seconds_bucket{",
        "kafka_messages_consumed_total{", "kafka_consumer_lag{",
        "kafka_batch_commit_seconds_bucket", "accrual_points_total{operation=\"earned\"",
        "outbox_published_total{", "process_resident_memory_bytes"}) {
    EXPECT_NE(metrics.find(name), std::string::npos) << name;
  }
  std::string file = dir.Sub("metrics.txt");
  std::ofstream(file) << metrics;
  int code = 0;
  std::string lint = RunShell("promtool check metrics < " + file + " 2>&1", &code);
  EXPECT_EQ(code, 0) << lint;
}

}  // namespace
}  // namespace loyalty::testing

namespace loyalty::testing {
namespace {

// idempotency.retention_days: records older than it are swept and a late retry is a new call.
TEST(IdempotencyRetentionTest, ExpiredRecordsAreSweptAndALateRetryIsANewCall) {
  TempDir dir;
  DevKafka kafka{dir.Sub("kafka")};
  ServiceProcess accrual{
      "accrual",
      dir.path(),
      kafka.bootstrap(),
      {"--idempotency.retention_days=0", "--idempotency.sweep_interval_seconds=1"}};
  accrual.Start();
  AccrualClient client(accrual.grpc_address());
  ASSERT_TRUE(client.Enroll("m1", "+380671110001").ok());
  v1::AwardPointsRequest award;
  award.set_member_id("m1");
  award.set_points(10);
  award.set_reason("goodwill");
  award.set_idempotency_key("late-retry");
  auto send = [&] {
    grpc::ClientContext context;
    v1::LedgerEntry entry;
    return client.stub().AwardPoints(&context, award, &entry);
  };
  ASSERT_TRUE(send().ok());
  auto expired = [&] {
    std::string metrics = HttpGet(accrual.metrics_port(), "/metrics");
    size_t at = metrics.find("\nidempotency_records_expired_total ");
    return at != std::string::npos &&
           std::atof(metrics.c_str() + at + std::strlen("\nidempotency_records_expired_total ")) >=
               2;  // the enrollment's record and the award's
  };
  ASSERT_TRUE(Eventually(expired, std::chrono::seconds(20)));
  ASSERT_TRUE(send().ok());  // the record is gone: applied again
  v1::Balance balance;
  ASSERT_TRUE(client.Balance("m1", &balance).ok());
  EXPECT_EQ(balance.available(), 20);
}

}  // namespace
}  // namespace loyalty::testing
