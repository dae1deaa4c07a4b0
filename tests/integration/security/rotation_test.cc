// Certificate rotation against a running accrual while calls continue: a new certificate and
// key written over the files is served to new connections of the gRPC port and of the HTTP
// door within seconds, without a restart, and the calls on the connection opened before go
// on without one failure.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "loyalty/v1/accrual.grpc.pb.h"
#include "tests/integration/accrual_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// The PEM certificate the gRPC port presents to a new connection (a channel argument of its
// own keeps gRPC from reusing an open connection).
std::string GrpcServerCertificate(const std::string& address, int nonce) {
  grpc::ChannelArguments args;
  args.SetInt("loyalty.test.nonce", nonce);
  auto stub = v1::AccrualService::NewStub(
      grpc::CreateCustomChannel(address, TestChannelCredentials(), args));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::GetBalanceRequest request;
  request.set_member_id("m-1");
  v1::GetBalanceResponse response;
  if (!stub->GetBalance(&context, request, &response).ok()) return "";
  auto auth = context.auth_context();
  if (!auth) return "";
  auto pem = auth->FindPropertyValues("x509_pem_cert");
  return pem.empty() ? "" : std::string(pem.front().data(), pem.front().size());
}

TEST(RotationTest, ANewCertificateIsServedWithoutARestartWhileCallsGoOn) {
  TempDir dir;
  DevKafka kafka(dir.Sub("kafka"));
  ServiceProcess accrual("accrual", dir.path(), kafka.bootstrap(),
                         {"--grpc.tls.refresh_seconds=1", "--http.address=127.0.0.1:0"});
  accrual.Start();
  AccrualClient client(accrual.grpc_address());
  ASSERT_TRUE(client.Enroll("m-1", "+380671234588").ok());
  const TestPki& pki = TestPki::Get();
  const std::string before = GrpcServerCertificate(accrual.grpc_address(), 0);
  ASSERT_FALSE(before.empty());

  std::atomic<bool> done{false};
  std::atomic<int> calls{0}, failures{0};
  std::thread caller([&] {
    while (!done) {
      v1::Balance balance;
      (client.Balance("m-1", &balance).ok() ? calls : failures)++;
    }
  });

  // A new key and certificate renamed over the files, key first, as docs/security.md says.
  pki.Issue("accrual-next", "spiffe://loyalty/service/accrual");
  const std::string after = ReadFile(pki.cert_file("accrual-next"));
  ASSERT_NE(after, ReadFile(pki.cert_file("accrual")));
  std::filesystem::rename(pki.key_file("accrual-next"), pki.key_file("accrual"));
  std::filesystem::rename(pki.cert_file("accrual-next"), pki.cert_file("accrual"));
  ASSERT_NE(after.find("BEGIN CERTIFICATE"), std::string::npos);
  int nonce = 1;
  EXPECT_TRUE(
      Eventually([&] { return GrpcServerCertificate(accrual.grpc_address(), nonce++) != before; },
                 std::chrono::seconds(30)))
      << "the gRPC port still serves the old certificate";

  // The HTTP door, asked by curl for the certificate it was shown.
  auto door_certificate = [&] {
    return RunShell("curl -s -o /dev/null -w '%{certs}' --cacert " + pki.ca_file() + " --cert " +
                    pki.cert_file("loyaltyctl") + " --key " + pki.key_file("loyaltyctl") +
                    " -H 'Content-Type: application/json' -d '{}'" +
                    " https://127.0.0.1:" + std::to_string(accrual.http_port()) +
                    "/loyalty.v1.AccrualService/ListCampaigns");
  };
  const std::string new_body = after.substr(after.find("BEGIN CERTIFICATE"), 200);
  EXPECT_TRUE(Eventually([&] { return door_certificate().find(new_body) != std::string::npos; },
                         std::chrono::seconds(30)))
      << door_certificate();

  done = true;
  caller.join();
  EXPECT_GT(calls.load(), 0);
  EXPECT_EQ(failures.load(), 0) << "calls failed during the rotation";
}

}  // namespace
}  // namespace loyalty::testing
