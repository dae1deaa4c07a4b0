// The flags that every loyaltyctl command accepts, anywhere on the command line, and where
// their defaults come from.
#pragma once

#include <string>
#include <string_view>

#include "common/grpc_tls.h"
#include "tools/loyaltyctl/args.h"

namespace loyalty::ctl {

struct GlobalOptions {
  std::string accrual_address;   // --accrual, $LOYALTY_ACCRUAL_ADDR, 127.0.0.1:50051
  std::string referral_address;  // --referral, $LOYALTY_REFERRAL_ADDR, 127.0.0.1:50053
  std::string brokers;           // --brokers, $LOYALTY_KAFKA_BROKERS, .run/bootstrap, :9092
  bool json = false;             // --json
  double timeout_seconds = 10;   // --timeout
  std::string key;               // --key; empty: a fresh key for this run
  // gRPC over mutual TLS: --tls-cert, --tls-key, --tls-ca, else $LOYALTY_CTL_TLS_CERT, _KEY,
  // _CA, else .run/pki/loyaltyctl.pem, .key and ca.pem when present (scripts/run-local.sh).
  // --insecure (or $LOYALTY_CTL_INSECURE=1): plain text, for services run with grpc.insecure.
  GrpcTlsSettings tls;
  // --api-key, else $LOYALTY_CTL_API_KEY: sent as `authorization: Bearer <key>` on every
  // gRPC call, instead of the certificate's identity (the channel still needs --tls-ca).
  std::string api_key;

  // Reads the flags of args, then the environment and bootstrap_file (the first line; the
  // default path is relative to the working directory) for what the flags leave open.
  // Throws UsageError for a bad --timeout or --key.
  static GlobalOptions From(const Args& args, const std::string& bootstrap_file = ".run/bootstrap",
                            const std::string& pki_dir = ".run/pki");
};

// The global flag names, for the unknown-flag check.
inline constexpr std::string_view kGlobalFlags[] = {"accrual", "referral", "brokers",  "json",
                                                    "timeout", "key",      "help",     "tls-cert",
                                                    "tls-key", "tls-ca",   "insecure", "api-key"};

}  // namespace loyalty::ctl
