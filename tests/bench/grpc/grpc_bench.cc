// CPU per unary call of gRPC's sync server and of its callback server, on loopback with
// concurrent sync clients: the cost model behind the redemption service's server choice.
// The third argument picks the transport: plaintext (default), mtls (the platform's TLS
// credentials, common/grpc_tls.h), or authz (mtls with the platform's Authorizer on the
// server and auth::CallerOf in the handler, as the services run), to price each layer.
//   grpc_bench callback 100000 32 authz
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "common/auth/authorizer.h"
#include "common/auth/policy.h"
#include "common/grpc_tls.h"
#include "loyalty/v1/accrual.grpc.pb.h"
#include "tests/support/test_pki.h"

namespace {

using loyalty::v1::AccrualService;
using loyalty::v1::GetBalanceRequest;
using loyalty::v1::GetBalanceResponse;

// What a handler of the services does with the caller: worked out from the call.
void UseCaller(const grpc::ServerContextBase& context, GetBalanceResponse* response) {
  if (loyalty::auth::Authorizer::Installed() != nullptr) {
    response->mutable_balance()->set_available(
        static_cast<int64_t>(loyalty::auth::CallerOf(context).principal.size()));
  }
}

class SyncBalance final : public AccrualService::Service {
  grpc::Status GetBalance(grpc::ServerContext* context, const GetBalanceRequest* request,
                          GetBalanceResponse* response) override {
    response->set_member_id(request->member_id());
    UseCaller(*context, response);
    return grpc::Status::OK;
  }
};

class CallbackBalance final
    : public AccrualService::WithCallbackMethod_GetBalance<AccrualService::Service> {
  grpc::ServerUnaryReactor* GetBalance(grpc::CallbackServerContext* context,
                                       const GetBalanceRequest* request,
                                       GetBalanceResponse* response) override {
    response->set_member_id(request->member_id());
    UseCaller(*context, response);
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

double CpuSeconds(const rusage& u) {
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "sync";
  int calls = argc > 2 ? std::atoi(argv[2]) : 100000;
  int clients = argc > 3 ? std::atoi(argv[3]) : 32;
  const std::string security = argc > 4 ? argv[4] : "plaintext";
  if (security != "plaintext" && security != "mtls" && security != "authz") {
    std::fprintf(stderr, "security: plaintext, mtls or authz\n");
    return 2;
  }
  loyalty::GrpcTlsSettings server_tls, client_tls;
  server_tls.insecure = client_tls.insecure = true;
  if (security != "plaintext") {
    const auto& pki = loyalty::testing::TestPki::Get();  // before the fork: both sides use it
    server_tls = pki.Settings("accrual");
    client_tls = pki.Settings("redemption");
  }
  int port = 0;
  int fds[2];
  if (pipe(fds) != 0) return 1;
  pid_t child = fork();
  if (child == 0) {
    SyncBalance sync_service;
    CallbackBalance callback_service;
    std::shared_ptr<loyalty::auth::Authorizer> authorizer;
    if (security == "authz") {
      authorizer = std::make_shared<loyalty::auth::Authorizer>(
          std::make_shared<loyalty::auth::PolicySource>(loyalty::auth::Policy::Defaults()),
          nullptr);
    }
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", loyalty::ServerCredentials(server_tls, authorizer),
                             &port);
    if (mode == "sync") {
      builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 256);
      builder.RegisterService(&sync_service);
    } else {
      builder.RegisterService(&callback_service);
    }
    auto server = builder.BuildAndStart();
    if (write(fds[1], &port, sizeof port) != sizeof port) return 1;
    server->Wait();  // until the parent kills us
    return 0;
  }
  if (read(fds[0], &port, sizeof port) != sizeof port) return 1;
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     loyalty::ChannelCredentials(client_tls));
  auto stub = AccrualService::NewStub(channel);
  std::atomic<int> next{0};
  auto run = [&] {
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t) {
      threads.emplace_back([&] {
        GetBalanceRequest request;
        request.set_member_id("m1");
        while (next.fetch_add(1) < calls) {
          grpc::ClientContext context;
          GetBalanceResponse response;
          if (!stub->GetBalance(&context, request, &response).ok()) std::abort();
        }
      });
    }
    for (auto& t : threads) t.join();
  };
  calls = calls / 10;
  run();  // warm up
  next = 0;
  calls = calls * 10;
  auto read_child_cpu = [&] {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", child);
    FILE* f = std::fopen(path, "r");
    char buf[4096];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    char* p = std::strrchr(buf, ')') + 2;
    long utime = 0, stime = 0;
    std::sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
    return (utime + stime) / double(sysconf(_SC_CLK_TCK));
  };
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  double server_before = read_child_cpu();
  auto start = std::chrono::steady_clock::now();
  run();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  getrusage(RUSAGE_SELF, &after);
  double server_cpu = read_child_cpu() - server_before;
  std::printf("%s %s: %d calls, %d clients: %.0f calls/s, cpu us/call server=%.1f client=%.1f\n",
              mode.c_str(), security.c_str(), calls, clients, calls / seconds,
              server_cpu * 1e6 / calls, (CpuSeconds(after) - CpuSeconds(before)) * 1e6 / calls);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  return 0;
}
