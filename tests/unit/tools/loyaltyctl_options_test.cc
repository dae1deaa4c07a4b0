#include "tools/loyaltyctl/options.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace loyalty::ctl {
namespace {

class OptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("LOYALTY_ACCRUAL_ADDR");
    unsetenv("LOYALTY_REFERRAL_ADDR");
    unsetenv("LOYALTY_KAFKA_BROKERS");
    bootstrap_ = (std::filesystem::temp_directory_path() /
                  ("loyaltyctl_bootstrap_" + std::to_string(::getpid())))
                     .string();
    std::filesystem::remove(bootstrap_);
  }
  void TearDown() override {
    std::filesystem::remove(bootstrap_);
    unsetenv("LOYALTY_ACCRUAL_ADDR");
    unsetenv("LOYALTY_REFERRAL_ADDR");
    unsetenv("LOYALTY_KAFKA_BROKERS");
  }
  static GlobalOptions From(std::vector<std::string> argv, const std::string& bootstrap) {
    return GlobalOptions::From(Args::Parse(argv, {"json", "help"}), bootstrap);
  }
  std::string bootstrap_;
};

TEST_F(OptionsTest, Defaults) {
  GlobalOptions options = From({"balance", "m1"}, bootstrap_);
  EXPECT_EQ(options.accrual_address, "127.0.0.1:50051");
  EXPECT_EQ(options.referral_address, "127.0.0.1:50053");
  EXPECT_EQ(options.brokers, "127.0.0.1:9092");
  EXPECT_FALSE(options.json);
  EXPECT_DOUBLE_EQ(options.timeout_seconds, 10);
  EXPECT_EQ(options.key, "");
}

TEST_F(OptionsTest, BrokersFlagThenEnvironmentThenBootstrapFile) {
  std::ofstream(bootstrap_) << "  127.0.0.1:40000\n";
  EXPECT_EQ(From({"purchase"}, bootstrap_).brokers, "127.0.0.1:40000");
  setenv("LOYALTY_KAFKA_BROKERS", "env:9092", 1);
  EXPECT_EQ(From({"purchase"}, bootstrap_).brokers, "env:9092");
  EXPECT_EQ(From({"purchase", "--brokers", "flag:9092"}, bootstrap_).brokers, "flag:9092");
}

TEST_F(OptionsTest, AccrualFlagThenEnvironment) {
  setenv("LOYALTY_ACCRUAL_ADDR", "env:1", 1);
  EXPECT_EQ(From({"balance"}, bootstrap_).accrual_address, "env:1");
  EXPECT_EQ(From({"balance", "--accrual=flag:2"}, bootstrap_).accrual_address, "flag:2");
}

TEST_F(OptionsTest, ReferralFlagThenEnvironment) {
  setenv("LOYALTY_REFERRAL_ADDR", "env:3", 1);
  EXPECT_EQ(From({"referral", "code", "m1"}, bootstrap_).referral_address, "env:3");
  EXPECT_EQ(From({"referral", "code", "--referral=flag:4"}, bootstrap_).referral_address, "flag:4");
  // The two addresses are independent.
  EXPECT_EQ(From({"referral", "code", "--referral=flag:4"}, bootstrap_).accrual_address,
            "127.0.0.1:50051");
}

TEST_F(OptionsTest, JsonTimeoutAndKey) {
  GlobalOptions options =
      From({"--json", "award", "--timeout=2.5", "--key", "retry-1"}, bootstrap_);
  EXPECT_TRUE(options.json);
  EXPECT_DOUBLE_EQ(options.timeout_seconds, 2.5);
  EXPECT_EQ(options.key, "retry-1");
  EXPECT_THROW(From({"award", "--timeout=0"}, bootstrap_), UsageError);
  EXPECT_THROW(From({"award", "--key="}, bootstrap_), UsageError);
}

}  // namespace
}  // namespace loyalty::ctl

namespace loyalty::ctl {
namespace {

// TLS settings: flags, else LOYALTY_CTL_TLS_*, else .run/pki's loyaltyctl certificate.
class TlsOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"LOYALTY_CTL_TLS_CERT", "LOYALTY_CTL_TLS_KEY", "LOYALTY_CTL_TLS_CA",
                          "LOYALTY_CTL_INSECURE"}) {
      unsetenv(v);
    }
    pki_ =
        (std::filesystem::temp_directory_path() / ("loyaltyctl_pki_" + std::to_string(::getpid())))
            .string();
    std::filesystem::remove_all(pki_);
  }
  void TearDown() override {
    std::filesystem::remove_all(pki_);
    unsetenv("LOYALTY_CTL_TLS_CERT");
    unsetenv("LOYALTY_CTL_INSECURE");
  }
  GlobalOptions From(std::vector<std::string> argv) {
    return GlobalOptions::From(Args::Parse(argv, {"json", "help", "insecure"}), "", pki_);
  }
  std::string pki_;
};

TEST_F(TlsOptionsTest, NothingConfiguredMeansNoTlsFiles) {
  GlobalOptions options = From({"balance", "m1"});
  EXPECT_FALSE(options.tls.insecure);
  EXPECT_TRUE(options.tls.ca_file.empty());
}

TEST_F(TlsOptionsTest, TheLocalPkiIsUsedWhenItHoldsLoyaltyctlsCertificate) {
  std::filesystem::create_directories(pki_);
  std::ofstream(pki_ + "/loyaltyctl.pem") << "x";
  GlobalOptions options = From({"balance", "m1"});
  EXPECT_EQ(options.tls.cert_file, pki_ + "/loyaltyctl.pem");
  EXPECT_EQ(options.tls.key_file, pki_ + "/loyaltyctl.key");
  EXPECT_EQ(options.tls.ca_file, pki_ + "/ca.pem");
}

TEST_F(TlsOptionsTest, FlagsWinOverTheEnvironmentAndTheLocalPki) {
  std::filesystem::create_directories(pki_);
  std::ofstream(pki_ + "/loyaltyctl.pem") << "x";
  setenv("LOYALTY_CTL_TLS_CERT", "/env/cert.pem", 1);
  GlobalOptions env = From({"balance", "m1"});
  EXPECT_EQ(env.tls.cert_file, "/env/cert.pem");
  EXPECT_TRUE(env.tls.ca_file.empty()) << "the local PKI is not mixed with given files";
  GlobalOptions flags =
      From({"balance", "m1", "--tls-cert=/f/c.pem", "--tls-key=/f/c.key", "--tls-ca=/f/ca.pem"});
  EXPECT_EQ(flags.tls.cert_file, "/f/c.pem");
  EXPECT_EQ(flags.tls.key_file, "/f/c.key");
  EXPECT_EQ(flags.tls.ca_file, "/f/ca.pem");
}

TEST_F(TlsOptionsTest, InsecureIsASwitchOrAVariable) {
  GlobalOptions options = From({"--insecure", "balance", "m1"});
  EXPECT_TRUE(options.tls.insecure);
  setenv("LOYALTY_CTL_INSECURE", "1", 1);
  EXPECT_TRUE(From({"balance", "m1"}).tls.insecure);
}

}  // namespace
}  // namespace loyalty::ctl
