// GrpcServer and Metrics over real sockets on port 0: health checking, the grpc-prometheus
// series the interceptor records, the process_* metrics, the ports file and shutdown.
#include "common/grpc_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <string>
#include <thread>

#include <grpcpp/completion_queue.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <gtest/gtest.h>
#include <prometheus/counter.h>

#include "common/metrics.h"

namespace loyalty {
namespace {

constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";

struct CallResult {
  grpc::Status status;
  std::string response;  // Serialized response message.
};

// Calls a unary method with a hand-encoded request, as Debian ships no health.pb.h.
CallResult CallUnary(int port, const std::string& method, const std::string& request) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request_buffer, &response_buffer,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  CallResult result;
  result.status = done.get_future().get();
  std::vector<grpc::Slice> slices;
  if (result.status.ok() && response_buffer.Dump(&slices).ok()) {
    for (const auto& s : slices) {
      result.response.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  return result;
}

// HealthCheckRequest{service = 1 (string)}.
std::string HealthRequest(const std::string& service) {
  if (service.empty()) return {};
  return std::string("\x0a", 1) + static_cast<char>(service.size()) + service;
}

// Sends request over a plain TCP socket; returns the whole reply, headers included.
std::string HttpExchange(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) reply.append(buf, n);
    }
  }
  close(fd);
  return reply;
}

// GET path; the whole reply, headers included.
std::string HttpGet(int port, const std::string& path) {
  return HttpExchange(port, "GET " + path + " HTTP/1.0\r\n\r\n");
}

// Scrapes until the body contains needle or a few seconds pass; returns the last scrape.
std::string ScrapeUntil(int port, const std::string& needle) {
  std::string body;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    body = HttpGet(port, "/metrics");
    if (body.find(needle) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return body;
}

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(metrics_.Serve("127.0.0.1:0").ok());
    ASSERT_GT(metrics_.port(), 0);
    ASSERT_TRUE(server_.Start("127.0.0.1:0", grpc::InsecureServerCredentials()).ok());
    ASSERT_GT(server_.port(), 0);
  }

  Metrics metrics_;  // Before server_, which points into its registry.
  GrpcServer server_{metrics_};
};

TEST_F(GrpcServerTest, HealthCheckReportsServing) {
  const CallResult result = CallUnary(server_.port(), kHealthCheck, HealthRequest(""));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  // HealthCheckResponse{status = 1 (enum): SERVING = 1}.
  EXPECT_EQ(result.response, std::string("\x08\x01", 2));
}

TEST_F(GrpcServerTest, ServesReflection) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_.port()),
                                     grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  ASSERT_NE(call, nullptr);
  // Runs one step of the call and waits for it, as the steps complete in order.
  auto step = [&cq](auto&& start) {
    void* tag = nullptr;
    bool ok = false;
    start();
    return cq.Next(&tag, &ok) && ok;
  };
  ASSERT_TRUE(step([&] { call->StartCall(&cq); }));
  // ServerReflectionRequest{list_services = 7 (string): ""}.
  grpc::Slice slice(std::string("\x3a\x00", 2));
  grpc::ByteBuffer request(&slice, 1);
  ASSERT_TRUE(step([&] { call->Write(request, &cq); }));
  ASSERT_TRUE(step([&] { call->WritesDone(&cq); }));
  grpc::ByteBuffer response;
  ASSERT_TRUE(step([&] { call->Read(&response, &cq); }));
  grpc::Status status;
  ASSERT_TRUE(step([&] { call->Finish(&status, &cq); }));
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_NE(bytes.find("grpc.reflection.v1alpha.ServerReflection"), std::string::npos);
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(GrpcServerTest, MetricsCountHandledCallsByCode) {
  ASSERT_TRUE(CallUnary(server_.port(), kHealthCheck, HealthRequest("")).status.ok());
  // The default health service answers NOT_FOUND for a service it was never told about.
  const CallResult unknown =
      CallUnary(server_.port(), kHealthCheck, HealthRequest("no.such.Service"));
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::NOT_FOUND);

  const std::string ok_series =
      "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Check\","
      "grpc_service=\"grpc.health.v1.Health\"} 1";
  const std::string body = ScrapeUntil(metrics_.port(), ok_series);
  EXPECT_NE(body.find("HTTP/1.1 200"), std::string::npos) << body.substr(0, 200);
  EXPECT_NE(body.find(ok_series), std::string::npos) << body;
  EXPECT_NE(body.find("grpc_server_handled_total{grpc_code=\"NOT_FOUND\",grpc_method=\"Check\","
                      "grpc_service=\"grpc.health.v1.Health\"} 1"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("grpc_server_handling_seconds_count{grpc_method=\"Check\","
                      "grpc_service=\"grpc.health.v1.Health\"} 2"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("grpc_server_handling_seconds_bucket{grpc_method=\"Check\","
                      "grpc_service=\"grpc.health.v1.Health\",le=\"0.0005\"}"),
            std::string::npos)
      << body;
}

TEST_F(GrpcServerTest, MetricsExportProcessMetrics) {
  const std::string body = HttpGet(metrics_.port(), "/metrics");
  for (const char* name : {"process_resident_memory_bytes", "process_cpu_seconds_total",
                           "process_open_fds", "process_start_time_seconds"}) {
    EXPECT_NE(body.find(std::string("\n") + name + " "), std::string::npos) << name << body;
  }
  // The values are read from /proc, not left at zero.
  EXPECT_EQ(body.find("\nprocess_resident_memory_bytes 0\n"), std::string::npos) << body;
  EXPECT_EQ(body.find("\nprocess_start_time_seconds 0\n"), std::string::npos) << body;
}

TEST_F(GrpcServerTest, ShutdownStopsServingAndWaitReturns) {
  std::thread waiter([this] { server_.Wait(); });
  server_.Shutdown(std::chrono::milliseconds(500));
  server_.Shutdown();  // Idempotent.
  waiter.join();
  const CallResult after = CallUnary(server_.port(), kHealthCheck, HealthRequest(""));
  EXPECT_FALSE(after.status.ok());
}

TEST(GrpcServerStartTest, FailsOnUnbindableAddress) {
  Metrics metrics;
  GrpcServer server(metrics);
  EXPECT_FALSE(server.Start("256.0.0.1:0", grpc::InsecureServerCredentials()).ok());
  EXPECT_EQ(server.port(), 0);
  server.Shutdown();  // No-op before a successful start.
  server.Wait();
}

TEST(MetricsTest, ServeFailsOnUnbindableAddressAndTwice) {
  Metrics metrics;
  EXPECT_FALSE(metrics.Serve("256.0.0.1:0").ok());
  EXPECT_EQ(metrics.port(), 0);
  ASSERT_TRUE(metrics.Serve("127.0.0.1:0").ok());
  EXPECT_FALSE(metrics.Serve("127.0.0.1:0").ok());
}

TEST(MetricsTest, OperatorsListenerServesMetricsLivenessAndReadiness) {
  Metrics metrics;
  prometheus::BuildCounter()
      .Name("loyalty_test_things_total")
      .Help("Things.")
      .Register(metrics.registry())
      .Add({})
      .Increment(3);
  ASSERT_TRUE(metrics.Serve("127.0.0.1:0").ok());
  const int port = metrics.port();

  std::string reply = HttpGet(port, "/metrics");
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  EXPECT_NE(reply.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(reply.find("loyalty_test_things_total 3"), std::string::npos) << reply;
  EXPECT_NE(reply.find("process_cpu_seconds_total"), std::string::npos);
  EXPECT_EQ(HttpGet(port, "/metrics?name=x").rfind("HTTP/1.1 200", 0), 0u);  // a query is ignored

  reply = HttpGet(port, "/healthz");
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  EXPECT_NE(reply.find("\r\n\r\nok\n"), std::string::npos) << reply;

  // Not ready until the service says so, and again once it stops.
  reply = HttpGet(port, "/readyz");
  EXPECT_EQ(reply.rfind("HTTP/1.1 503", 0), 0u) << reply;
  EXPECT_NE(reply.find("not ready: starting"), std::string::npos) << reply;
  metrics.SetReady();
  reply = HttpGet(port, "/readyz");
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  metrics.SetNotReady("stopping");
  reply = HttpGet(port, "/readyz");
  EXPECT_EQ(reply.rfind("HTTP/1.1 503", 0), 0u) << reply;
  EXPECT_NE(reply.find("not ready: stopping"), std::string::npos) << reply;
  EXPECT_EQ(HttpGet(port, "/healthz").rfind("HTTP/1.1 200", 0), 0u);  // alive all the same

  EXPECT_EQ(HttpGet(port, "/other").rfind("HTTP/1.1 404", 0), 0u);
  reply = HttpExchange(port, "POST /metrics HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply;  // no body is taken
  reply = HttpExchange(port, "DELETE /readyz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 405", 0), 0u) << reply;
}

TEST(MetricsTest, ServesOnAnIpv6Address) {
  Metrics metrics;
  Status s = metrics.Serve("[::1]:0");
  if (!s.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << s.message();
  EXPECT_GT(metrics.port(), 0);
  EXPECT_FALSE(Metrics().Serve("[not-v6]:0").ok());
}

TEST(PortsFileTest, WritesJsonObjectAtomically) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / ("ports_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "ports.json").string();
  ASSERT_TRUE(WritePortsFile(path, {{"metrics", 9464}, {"grpc", 50051}}).ok());
  ASSERT_TRUE(WritePortsFile(path, {{"grpc", 1}, {"metrics", 2}}).ok());  // Replaces.
  std::ifstream in(path);
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "{\"grpc\":1,\"metrics\":2}\n");
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1);
  EXPECT_FALSE(WritePortsFile((dir / "missing" / "ports.json").string(), {{"grpc", 1}}).ok());
  std::filesystem::remove_all(dir);
}

TEST(ShutdownSignalTest, WaitReturnsTheBlockedSignal) {
  sigset_t old_mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &old_mask);
  BlockShutdownSignals();
  // Directed at this thread, where it is blocked, so that no other thread of the test process
  // (with the default action) can take it.
  pthread_kill(pthread_self(), SIGTERM);
  EXPECT_EQ(WaitForShutdownSignal(), SIGTERM);
  pthread_kill(pthread_self(), SIGINT);
  EXPECT_EQ(WaitForShutdownSignal(), SIGINT);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
}

}  // namespace
}  // namespace loyalty
