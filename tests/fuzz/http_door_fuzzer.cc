// The HTTP/JSON door's request handling (HttpDoor::Handle): the path, Content-Type,
// Authorization and body of a request, split from the input at its first three newlines, as an
// admin's certificate would send them. The door stands before a real gRPC server with no
// loyalty service registered, so that a request the door lets through ends UNIMPLEMENTED. Every
// answer is a status the door gives and a JSON object.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/grpc_server.h"
#include "common/http_door.h"
#include "common/metrics.h"
#include "tests/fuzz/fuzz_env.h"

namespace loyalty {
namespace {

struct Env {
  Env() : server(metrics) {
    FUZZ_CHECK(server.Start("127.0.0.1:0", grpc::InsecureServerCredentials()).ok());
    GrpcTlsSettings plain;
    plain.insecure = true;
    door = std::make_unique<HttpDoor>(
        plain, std::make_shared<auth::PolicySource>(auth::Policy::Defaults()), nullptr,
        server.InProcessChannel(), 1 << 20, metrics.registry());
  }
  Metrics metrics;
  GrpcServer server;
  std::unique_ptr<HttpDoor> door;
};

std::string_view Next(std::string_view& input) {
  size_t newline = input.find('\n');
  std::string_view part = input.substr(0, newline);
  input = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  return part;
}

}  // namespace
}  // namespace loyalty

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loyalty;
  static Env* env = new Env();  // never destroyed: the server outlives every input
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view path = Next(input);
  std::string_view content_type = Next(input);
  std::string_view authorization = Next(input);
  HttpDoor::Answer answer =
      env->door->Handle(path, content_type, authorization, "spiffe://loyalty/admin/fuzz", input);
  static const int kStatuses[] = {200, 400, 401, 403, 404, 409, 415, 429, 499, 500, 501, 503, 504};
  bool known = false;
  for (int s : kStatuses) known = known || s == answer.http_status;
  FUZZ_CHECK(known);
  google::protobuf::Struct parsed;
  FUZZ_CHECK(google::protobuf::util::JsonStringToMessage(answer.body, &parsed).ok());
  return 0;
}
