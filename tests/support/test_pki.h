// The tests' certificate authority: scripts/pki.sh run once per test process into a
// directory that lives as long as the process, with a certificate for each service (its
// principal spiffe://loyalty/service/<name>), for loyaltyctl (the admin the tests call as by
// default) and for an example till. ServiceProcess starts every service with its own; the
// tests' clients dial with TestChannelCredentials, so everything runs over mutual TLS as in
// production.
#pragma once

#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>
#include <vector>

#include "common/grpc_tls.h"

namespace loyalty::testing {

class TestPki {
 public:
  // The process's PKI, made at the first call.
  static const TestPki& Get();

  const std::string& dir() const { return dir_; }
  std::string ca_file() const { return dir_ + "/ca.pem"; }
  std::string cert_file(const std::string& name) const { return dir_ + "/" + name + ".pem"; }
  std::string key_file(const std::string& name) const { return dir_ + "/" + name + ".key"; }
  // Issues a certificate for identity (a URI SAN) as name, unless name exists already.
  void Issue(const std::string& name, const std::string& identity) const;
  // A second, unrelated CA in dir()/other, with a certificate "stranger" it signed.
  std::string OtherCaDir() const;

  // Settings of name's certificate (a service, "loyaltyctl", "till-example").
  GrpcTlsSettings Settings(const std::string& name) const;
  // The flags that give a service name's certificate and the CA.
  std::vector<std::string> ServiceFlags(const std::string& name) const;
  // loyaltyctl's flags for name's certificate (" --tls-cert=... --tls-key=... --tls-ca=...").
  std::string CtlFlags(const std::string& name = "loyaltyctl") const;

 private:
  explicit TestPki(std::string dir);
  std::string dir_;
};

// Whether $LOYALTY_TEST_GRPC is "plaintext": the services run with grpc.insecure and the test
// clients without TLS, for the benchmarks' mTLS-against-plaintext comparison only.
bool PlaintextGrpc();

// Channel credentials of a test client: mutual TLS with name's certificate (plain text under
// PlaintextGrpc).
std::shared_ptr<grpc::ChannelCredentials> TestChannelCredentials(
    const std::string& name = "loyaltyctl");

}  // namespace loyalty::testing
