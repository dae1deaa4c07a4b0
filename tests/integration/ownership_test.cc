// Two accrual instances of one program (cluster.instances=2): each reads only the input
// partitions it owns (p mod 2 = its index). Members are enrolled at the instance that owns
// their partition, murmur2(member_id) mod 4 as common/partitioning.h computes it; kcat
// publishes with the same partitioner, as a point-of-sale producer would. With cluster.peers
// set, a call reaching the other instance is forwarded to the owner (common/forwarder.h).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/grpc_accrual_client.h"
#include "common/partitioning.h"
#include "tests/integration/accrual_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::testing {
namespace {

constexpr int kPartitions = 4;  // the test brokers' topics (DevKafka)
constexpr int kMembers = 40;

std::string MemberId(int i) { return "own-" + std::to_string(i); }
int OwnerOfMember(const std::string& member_id) {
  return OwnerOf(PartitionOf(member_id, kPartitions), 2);
}

// The value of a sample line "name{labels} value" in Prometheus text; -1 if absent.
double Sample(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(OwnershipTest, EachInstanceReadsOnlyThePartitionsItOwns) {
  TempDir dir;
  DevKafka kafka{dir.Sub("kafka"), kPartitions};
  ServiceProcess first{
      "accrual", dir.Sub("i0"), kafka.bootstrap(), {"--cluster.instances=2", "--cluster.index=0"}};
  ServiceProcess second{
      "accrual", dir.Sub("i1"), kafka.bootstrap(), {"--cluster.instances=2", "--cluster.index=1"}};
  first.Start();
  second.Start();
  AccrualClient at0(first.grpc_address()), at1(second.grpc_address());
  AccrualClient* at[] = {&at0, &at1};

  int owned_by_first = 0;
  std::string lines;
  for (int i = 0; i < kMembers; ++i) {
    const std::string member = MemberId(i);
    const int owner = OwnerOfMember(member);
    owned_by_first += owner == 0;
    ASSERT_TRUE(at[owner]->Enroll(member, "+3806710000" + std::to_string(10 + i)).ok()) << member;
    lines += member + R"(|{"purchaseId":"op-)" + std::to_string(i) + R"(","memberId":")" + member +
             R"(","amountMinor":")" + std::to_string(10'000 * (i + 1)) + R"(","currency":"UAH"})" +
             "\n";
  }
  ASSERT_GT(owned_by_first, 0);
  ASSERT_LT(owned_by_first, kMembers) << "both instances own members";
  const std::string file = dir.Sub("purchases");
  std::ofstream(file) << lines;
  int code = 0;
  std::string out = RunShell("kcat -b " + kafka.bootstrap() +
                                 " -X topic.partitioner=murmur2_random -P -t loyalty.purchases.v1 "
                                 "-K '|' -l " +
                                 file + " 2>&1",
                             &code);
  ASSERT_EQ(code, 0) << out;

  // 1% of (i + 1) * 100.00 at the owner; the other instance never heard of the member.
  for (int i = 0; i < kMembers; ++i) {
    const std::string member = MemberId(i);
    const int owner = OwnerOfMember(member);
    v1::Balance balance;
    ASSERT_TRUE(Eventually([&] {
      return at[owner]->Balance(member, &balance).ok() && balance.available() == 100 * (i + 1);
    })) << member
        << " at instance " << owner << ": " << balance.ShortDebugString();
    // Without cluster.peers the other instance cannot forward, and says so.
    grpc::Status elsewhere = at[1 - owner]->Balance(member, &balance);
    EXPECT_EQ(elsewhere.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << member;
    EXPECT_NE(elsewhere.error_message().find("cluster.peers"), std::string::npos)
        << elsewhere.error_message();
  }
  // Every purchase reached the instance that knows its member, none the other one; each
  // reads lag of its own two partitions only.
  for (ServiceProcess* instance : {&first, &second}) {
    const int index = instance == &first ? 0 : 1;
    const int owned = index == 0 ? owned_by_first : kMembers - owned_by_first;
    std::string metrics;
    EXPECT_TRUE(Eventually([&] {
      metrics = HttpGet(instance->metrics_port(), "/metrics");
      return Sample(metrics, R"(accrual_purchases_total{member="true"})") == owned;
    })) << "instance "
        << index << " owns " << owned << "\n"
        << metrics;
    EXPECT_LE(Sample(metrics, R"(kafka_messages_dead_lettered_total{reason="unknown_member",)"
                              R"(topic="loyalty.purchases.v1"})"),
              0)
        << "a purchase of the other instance's member";
    for (int p = 0; p < kPartitions; ++p) {
      const std::string lag = R"(kafka_consumer_lag{partition=")" + std::to_string(p) +
                              R"(",topic="loyalty.purchases.v1"})";
      EXPECT_EQ(Sample(metrics, lag) >= 0, p % 2 == index) << "instance " << index << " " << lag;
    }
  }
}

// A port the OS has free now, for a service that must be told its peers' addresses first.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    close(fd);
    throw std::runtime_error("no free port");
  }
  close(fd);
  return ntohs(address.sin_port);
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

// Two instances that know each other (cluster.peers): every call reaches the owner.
class ForwardingTest : public ::testing::Test {
 protected:
  ForwardingTest() {
    const std::string peers = "--cluster.peers=127.0.0.1:" + std::to_string(ports[0]) +
                              ",127.0.0.1:" + std::to_string(ports[1]);
    for (int i = 0; i < 2; ++i) {
      instances[i] = std::make_unique<ServiceProcess>(
          "accrual", dir.Sub("i" + std::to_string(i)), kafka.bootstrap(),
          std::vector<std::string>{"--cluster.instances=2", "--cluster.index=" + std::to_string(i),
                                   "--grpc.address=127.0.0.1:" + std::to_string(ports[i]), peers});
    }
    for (auto& instance : instances) instance->Start();
    for (int i = 0; i < 2; ++i)
      at[i] = std::make_unique<AccrualClient>(instances[i]->grpc_address());
  }

  double Forwarded(int instance, const std::string& method) {
    double count =
        Sample(HttpGet(instances[instance]->metrics_port(), "/metrics"),
               R"(grpc_forwarded_calls_total{code="0",method="/loyalty.v1.AccrualService/)" +
                   method + R"("})");
    return count < 0 ? 0 : count;  // no such call forwarded yet
  }

  TempDir dir;
  DevKafka kafka{dir.Sub("kafka"), kPartitions};
  int ports[2] = {FreePort(), FreePort()};
  std::unique_ptr<ServiceProcess> instances[2];
  std::unique_ptr<AccrualClient> at[2];
};

TEST_F(ForwardingTest, ACallAtTheOtherInstanceIsAppliedOnceAtTheOwner) {
  // A member of each instance, every call made at the instance that does not own it.
  for (int i = 0; i < 6; ++i) {
    const std::string member = MemberId(100 + i);
    const int other = 1 - OwnerOfMember(member);
    AccrualClient& wrong = *at[other];
    AccrualClient& owner = *at[1 - other];
    ASSERT_TRUE(wrong.Enroll(member, "+3806720000" + std::to_string(10 + i)).ok()) << member;

    v1::AwardPointsRequest award;
    award.set_member_id(member);
    award.set_points(500);
    award.set_reason("welcome");
    award.set_idempotency_key("award-" + member);
    v1::LedgerEntry first, retried;
    ASSERT_TRUE(wrong.stub().AwardPoints(Context().get(), award, &first).ok()) << member;
    // The retry reaches the owner directly: the same key, the same entry, counted once.
    ASSERT_TRUE(owner.stub().AwardPoints(Context().get(), award, &retried).ok()) << member;
    EXPECT_EQ(retried.sequence(), first.sequence());
    EXPECT_EQ(first.balance_after().available(), 500);
    if (!PlaintextGrpc()) {
      // Under the caller's principal, not the forwarding instance's.
      EXPECT_EQ(first.principal(), "spiffe://loyalty/admin/loyaltyctl") << first.ShortDebugString();
    }

    // A hold opened at the wrong instance and captured at it again: the hold id routes to
    // the member's owner.
    v1::HoldPointsRequest hold;
    hold.set_member_id(member);
    hold.set_points(200);
    hold.set_idempotency_key("hold-" + member);
    v1::Hold opened, captured;
    ASSERT_TRUE(wrong.stub().HoldPoints(Context().get(), hold, &opened).ok()) << member;
    EXPECT_EQ(OwnerOfMember(opened.hold_id()), 1 - other) << opened.hold_id();
    v1::CaptureHoldRequest capture;
    capture.set_hold_id(opened.hold_id());
    capture.set_idempotency_key("capture-" + member);
    ASSERT_TRUE(wrong.stub().CaptureHold(Context().get(), capture, &captured).ok()) << member;
    EXPECT_EQ(captured.status(), v1::HOLD_STATUS_CAPTURED);

    v1::Balance seen_at_wrong, seen_at_owner;
    ASSERT_TRUE(wrong.Balance(member, &seen_at_wrong).ok());
    ASSERT_TRUE(owner.Balance(member, &seen_at_owner).ok());
    EXPECT_EQ(seen_at_wrong.available(), 300) << member;
    EXPECT_EQ(seen_at_owner.ShortDebugString(), seen_at_wrong.ShortDebugString());
  }
  EXPECT_GE(Forwarded(0, "AwardPoints") + Forwarded(1, "AwardPoints"), 6);
  EXPECT_GE(Forwarded(0, "CaptureHold") + Forwarded(1, "CaptureHold"), 6);
}

TEST_F(ForwardingTest, AGeneratedMemberIdIsOwnedByTheInstanceThatEnrolledIt) {
  for (int i = 0; i < 2; ++i) {
    for (int n = 0; n < 5; ++n) {
      v1::EnrollMemberRequest request;
      request.set_phone("+38067300" + std::to_string(i) + std::to_string(1000 + n));
      request.set_idempotency_key("gen-" + std::to_string(i) + "-" + std::to_string(n));
      v1::Member member;
      ASSERT_TRUE(at[i]->stub().EnrollMember(Context().get(), request, &member).ok());
      EXPECT_EQ(OwnerOfMember(member.member_id()), i) << member.member_id();
    }
  }
}

TEST_F(ForwardingTest, ABulkEnrolmentIsSplitAmongTheOwnersInItsOrder) {
  v1::EnrollMembersRequest request;
  for (int i = 0; i < 20; ++i) {
    v1::EnrollMemberRequest& member = *request.add_members();
    member.set_member_id(MemberId(200 + i));
    member.set_phone("+3806740000" + std::to_string(10 + i));
    member.set_idempotency_key("bulk-" + std::to_string(i));
  }
  request.mutable_members(7)->set_phone("not a phone");
  v1::EnrollMembersResponse response;
  ASSERT_TRUE(at[0]->stub().EnrollMembers(Context().get(), request, &response).ok());
  ASSERT_EQ(response.results_size(), 20);
  for (int i = 0; i < 20; ++i) {
    const std::string member = MemberId(200 + i);
    if (i == 7) {
      EXPECT_EQ(response.results(i).code(), grpc::StatusCode::INVALID_ARGUMENT);
      continue;
    }
    ASSERT_EQ(response.results(i).code(), 0) << response.results(i).error();
    EXPECT_EQ(response.results(i).member().member_id(), member);
    // Enrolled at its owner: the owner answers without forwarding.
    v1::GetMemberRequest get;
    get.set_member_id(member);
    v1::Member found;
    EXPECT_TRUE(at[OwnerOfMember(member)]->stub().GetMember(Context().get(), get, &found).ok())
        << member;
  }
  EXPECT_GE(Forwarded(0, "EnrollMembers"), 1);
}

TEST_F(ForwardingTest, TheRouterSendsEachCallToTheOwnerWithoutAForward) {
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(at[OwnerOfMember(MemberId(300 + i))]
                    ->Enroll(MemberId(300 + i), "+3806750000" + std::to_string(10 + i))
                    .ok());
  }
  GrpcAccrualClient routed({instances[0]->grpc_address(), instances[1]->grpc_address()},
                           kPartitions, TestChannelCredentials());
  const double before = Forwarded(0, "AwardPoints") + Forwarded(1, "AwardPoints");
  for (int i = 0; i < 6; ++i) {
    v1::AwardPointsRequest award;
    award.set_member_id(MemberId(300 + i));
    award.set_points(7);
    award.set_reason("routed");
    award.set_source("goodwill");
    award.set_idempotency_key("routed-" + std::to_string(i));
    auto entry = routed.AwardPoints(award);
    ASSERT_TRUE(entry.ok()) << entry.status().message();
    EXPECT_EQ(entry->balance_after().available(), 7);
  }
  EXPECT_EQ(Forwarded(0, "AwardPoints") + Forwarded(1, "AwardPoints"), before);
}

TEST(OwnershipTest, AnIndexOutsideTheInstancesIsRefusedAtStart) {
  TempDir dir;
  DevKafka kafka{dir.Sub("kafka"), kPartitions};
  int code = 0;
  std::string out =
      RunShell(BinDir() + "/loyalty-accrual --data_dir=" + dir.Sub("bad") +
                   " --kafka.brokers=" + kafka.bootstrap() +
                   " --grpc.insecure=true --cluster.instances=2 --cluster.index=2 2>&1",
               &code);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("cluster.index: must be in 0..1"), std::string::npos) << out;
}

}  // namespace
}  // namespace loyalty::testing
