// The service binaries' configuration as a user meets it: --help prints every key and exits
// 0 without starting, an unknown flag, environment variable or file key is refused at start
// with its name, and deploy/config/<service>.yaml is exactly --print-default-config.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace loyalty::testing {
namespace {

const char* const kServices[] = {"accrual", "redemption", "referral", "notification"};

std::string Binary(const std::string& service) { return BinDir() + "/loyalty-" + service; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs command with stderr into stdout; returns the output and sets the exit code.
std::string RunCommand(const std::string& command, int* exit_code) {
  return RunShell(command + " 2>&1 </dev/null", exit_code);
}

TEST(RuntimeConfigTest, HelpPrintsEveryKeyAndExits) {
  TempDir dir;
  for (const char* service : kServices) {
    int code = -1;
    // A data_dir that --help must not create: it exits before opening anything.
    const std::string data_dir = dir.Sub(std::string(service) + "-data");
    std::string out = RunCommand(Binary(service) + " --data_dir=" + data_dir + " --help", &code);
    EXPECT_EQ(code, 0) << service << "\n" << out;
    EXPECT_EQ(out.rfind("usage: loyalty-" + std::string(service), 0), 0u) << out;
    for (const char* key : {"  data_dir = ", "  kafka.brokers = 127.0.0.1:9092",
                            "  grpc.address = ", "  metrics.address = ", "  store.sync = true"}) {
      EXPECT_NE(out.find(key), std::string::npos) << service << ": " << key;
    }
    EXPECT_FALSE(std::filesystem::exists(data_dir)) << service;
  }
  int code = -1;
  std::string out = RunCommand(BinDir() + "/loyalty-devkafka --help", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("--partitions=N"), std::string::npos) << out;
}

TEST(RuntimeConfigTest, DevKafkaRefusesAnUnknownFlag) {
  int code = 0;
  std::string out = RunCommand(BinDir() + "/loyalty-devkafka --partitons=2", &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("unknown flag: --partitons=2"), std::string::npos) << out;
}

TEST(RuntimeConfigTest, UnknownKeysAreRefusedWithTheirName) {
  TempDir dir;
  for (const char* service : kServices) {
    const std::string data_dir = dir.Sub(std::string(service) + "-data");
    int code = 0;
    std::string out = RunCommand(
        Binary(service) + " --data_dir=" + data_dir + " --grpc.adress=127.0.0.1:0", &code);
    EXPECT_EQ(code, 1) << service << "\n" << out;
    EXPECT_NE(out.find("unknown configuration flag '--grpc.adress'"), std::string::npos) << out;
    EXPECT_NE(out.find("did you mean '--grpc.address'"), std::string::npos) << out;

    out = RunCommand("LOYALTY_KAFKA_BROKRS=x:1 " + Binary(service) + " --data_dir=" + data_dir,
                     &code);
    EXPECT_EQ(code, 1) << service << "\n" << out;
    EXPECT_NE(out.find("'LOYALTY_KAFKA_BROKRS'"), std::string::npos) << out;

    const std::string file = dir.Sub(std::string(service) + ".yaml");
    std::ofstream(file) << "kafka:\n  brokers: 127.0.0.1:1\nstore:\n  snyc: false\n";
    out = RunCommand(Binary(service) + " --data_dir=" + data_dir + " --config=" + file, &code);
    EXPECT_EQ(code, 1) << service << "\n" << out;
    EXPECT_NE(out.find("unknown configuration key 'store.snyc'"), std::string::npos) << out;
    EXPECT_NE(out.find("did you mean 'store.sync'"), std::string::npos) << out;
    EXPECT_FALSE(std::filesystem::exists(data_dir)) << service;
  }
}

TEST(RuntimeConfigTest, ShippedConfigFilesAreTheDefaults) {
  for (const char* service : kServices) {
    int code = -1;
    std::string out = RunShell(Binary(service) + " --print-default-config", &code);
    EXPECT_EQ(code, 0) << service;
    const std::string path =
        std::string(LOYALTY_SOURCE_DIR) + "/deploy/config/" + service + ".yaml";
    EXPECT_EQ(ReadFile(path), out) << path << " differs from loyalty-" << service
                                   << " --print-default-config; regenerate it with that command";
  }
}

}  // namespace
}  // namespace loyalty::testing
