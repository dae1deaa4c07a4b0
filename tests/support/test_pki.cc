#include "tests/support/test_pki.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "tests/support/process.h"

namespace loyalty::testing {
namespace {

std::string Pki(const std::string& args) {
  int exit_code = 0;
  std::string out =
      RunShell("bash " LOYALTY_SOURCE_DIR "/scripts/pki.sh " + args + " 2>&1", &exit_code);
  if (exit_code != 0) throw std::runtime_error("scripts/pki.sh " + args + ": " + out);
  return out;
}

}  // namespace

TestPki::TestPki(std::string dir) : dir_(std::move(dir)) { Pki("local " + dir_); }

const TestPki& TestPki::Get() {
  // Removed at exit: the services that read it have been stopped by then.
  static const struct Holder {
    std::string path;
    TestPki pki;
    Holder()
        : path([] {
            const char* tmp = std::getenv("TMPDIR");
            std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/loyalty-pki-XXXXXX";
            if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
            return pattern;
          }()),
          pki(path) {}
    ~Holder() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } holder;
  return holder.pki;
}

void TestPki::Issue(const std::string& name, const std::string& identity) const {
  Pki("issue " + dir_ + " " + name + " '" + identity + "'");
}

std::string TestPki::OtherCaDir() const {
  std::string other = dir_ + "/other";
  Pki("ca " + other);
  Pki("issue " + other + " stranger spiffe://elsewhere/stranger");
  return other;
}

GrpcTlsSettings TestPki::Settings(const std::string& name) const {
  GrpcTlsSettings settings;
  settings.cert_file = cert_file(name);
  settings.key_file = key_file(name);
  settings.ca_file = ca_file();
  settings.refresh_seconds = 1;
  return settings;
}

std::vector<std::string> TestPki::ServiceFlags(const std::string& name) const {
  return {"--grpc.tls.cert_file=" + cert_file(name), "--grpc.tls.key_file=" + key_file(name),
          "--grpc.tls.ca_file=" + ca_file()};
}

std::string TestPki::CtlFlags(const std::string& name) const {
  return " --tls-cert=" + cert_file(name) + " --tls-key=" + key_file(name) +
         " --tls-ca=" + ca_file();
}

bool PlaintextGrpc() {
  const char* mode = std::getenv("LOYALTY_TEST_GRPC");
  return mode != nullptr && std::string(mode) == "plaintext";
}

std::shared_ptr<grpc::ChannelCredentials> TestChannelCredentials(const std::string& name) {
  if (PlaintextGrpc()) return grpc::InsecureChannelCredentials();
  return ChannelCredentials(TestPki::Get().Settings(name));
}

}  // namespace loyalty::testing
