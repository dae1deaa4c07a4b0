#include "tools/loyaltyctl/options.h"

#include <cstdlib>
#include <fstream>

namespace loyalty::ctl {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

std::string Trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

}  // namespace

GlobalOptions GlobalOptions::From(const Args& args, const std::string& bootstrap_file,
                                  const std::string& pki_dir) {
  GlobalOptions options;
  options.accrual_address = args.Get("accrual", Env("LOYALTY_ACCRUAL_ADDR"));
  if (options.accrual_address.empty()) options.accrual_address = "127.0.0.1:50051";
  options.referral_address = args.Get("referral", Env("LOYALTY_REFERRAL_ADDR"));
  if (options.referral_address.empty()) options.referral_address = "127.0.0.1:50053";

  options.brokers = args.Get("brokers", Env("LOYALTY_KAFKA_BROKERS"));
  if (options.brokers.empty() && !bootstrap_file.empty()) {
    std::ifstream file(bootstrap_file);
    std::string line;
    if (file && std::getline(file, line)) options.brokers = Trim(line);
  }
  if (options.brokers.empty()) options.brokers = "127.0.0.1:9092";

  options.tls.insecure = args.Has("insecure") || Env("LOYALTY_CTL_INSECURE") == "1";
  options.tls.cert_file = args.Get("tls-cert", Env("LOYALTY_CTL_TLS_CERT"));
  options.tls.key_file = args.Get("tls-key", Env("LOYALTY_CTL_TLS_KEY"));
  options.tls.ca_file = args.Get("tls-ca", Env("LOYALTY_CTL_TLS_CA"));
  const bool given = !options.tls.cert_file.empty() || !options.tls.key_file.empty() ||
                     !options.tls.ca_file.empty();
  if (!given && !pki_dir.empty() && std::ifstream(pki_dir + "/loyaltyctl.pem")) {
    options.tls.cert_file = pki_dir + "/loyaltyctl.pem";
    options.tls.key_file = pki_dir + "/loyaltyctl.key";
    options.tls.ca_file = pki_dir + "/ca.pem";
  }

  options.api_key = args.Get("api-key", Env("LOYALTY_CTL_API_KEY"));
  if (options.api_key.size() > 512) throw UsageError("--api-key: at most 512 characters");

  options.json = args.Has("json");
  if (args.Has("timeout")) options.timeout_seconds = ParseSeconds("--timeout", args.Get("timeout"));
  if (args.Has("key")) {
    options.key = args.Get("key");
    if (options.key.empty() || options.key.size() > 256) {
      throw UsageError("--key: use 1-256 characters");
    }
  }
  return options;
}

}  // namespace loyalty::ctl
