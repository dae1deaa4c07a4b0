// Real processes for integration tests and benchmarks: start a binary of the build with its
// output in a log file, kill it with any signal, restart it; the dev Kafka broker and the
// services as the child processes they are in production.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace loyalty::testing {

// Directory of the build's executables: $LOYALTY_BIN_DIR, else this test's own directory.
std::string BinDir();

class ChildProcess {
 public:
  // env: "NAME=value" entries added to (or replacing in) the inherited environment.
  ChildProcess(std::vector<std::string> argv, std::string log_path,
               std::vector<std::string> env = {});
  ~ChildProcess();  // SIGTERM, then SIGKILL if it lingers
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void Start();
  void Signal(int signal);
  // Waits for exit; returns the exit status as from waitpid (or -1 on timeout).
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void Kill9() {
    Signal(9);
    Wait();
  }
  bool running() const { return pid_ > 0; }
  const std::string& log_path() const { return log_path_; }
  std::string LogTail(size_t bytes = 4000) const;

 private:
  std::vector<std::string> argv_;
  std::string log_path_;
  std::vector<std::string> env_;
  pid_t pid_ = -1;
};

// Waits until path exists and is non-empty; returns its contents (throws on timeout).
std::string WaitForFile(const std::string& path,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));
// Reads {"grpc":N,"metrics":M} as written by WritePortsFile.
std::map<std::string, int> ReadPortsFile(const std::string& path);
// Runs a shell command; returns its stdout and sets exit_code.
std::string RunShell(const std::string& command, int* exit_code = nullptr);
// GET http://127.0.0.1:port/path over a plain socket; returns the body.
std::string HttpGet(int port, const std::string& path);

// The Kafka a test runs against: the embedded dev broker as a child process or, when
// $LOYALTY_TEST_KAFKA is "real" (CTest label realkafka), the real cluster at
// $LOYALTY_TEST_KAFKA_BOOTSTRAP (default: scripts/kafka.sh's 3-node list) with the platform's
// topics deleted and created anew with `partitions` partitions, so that every test starts from
// empty topics as it does with a fresh dev broker.
class DevKafka {
 public:
  explicit DevKafka(const std::string& dir, int partitions = 4);
  const std::string& bootstrap() const { return bootstrap_; }
  bool real() const { return process_ == nullptr; }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string bootstrap_;
};

// The real cluster's bootstrap list when $LOYALTY_TEST_KAFKA is "real", else "".
std::string RealKafkaBootstrap();

// Deletes the topics (those that exist) and creates them with `partitions` partitions,
// replication min(3, brokers) and min.insync.replicas=2 from three brokers on; returns once
// every partition has a leader and a full ISR. Throws on timeout.
void RecreateTopics(const std::string& bootstrap, const std::vector<std::string>& topics,
                    int partitions, std::chrono::milliseconds timeout = std::chrono::seconds(90));

// Returns once every partition of the topics (of `partitions` each) has a leader and a full
// ISR, as seen in several metadata answers in a row. Throws on timeout.
void WaitTopicsReady(const std::string& bootstrap, const std::vector<std::string>& topics,
                     int partitions, std::chrono::milliseconds timeout = std::chrono::seconds(90));

// The broker (node) id leading a partition, or -1.
int PartitionLeader(const std::string& bootstrap, const std::string& topic, int partition);

// The pid of node N of the scripts/kafka.sh cluster ($LOYALTY_KAFKA_DIR or its default).
pid_t RealKafkaNodePid(int node);

// The platform's topics (as tools/devkafka and scripts/kafka.sh create them).
const std::vector<std::string>& PlatformTopics();

// A loyalty service as a child process on ports picked by the OS.
class ServiceProcess {
 public:
  // name: "accrual" runs bin/loyalty-accrual with its state in dir/accrual. extra_env as
  // ChildProcess's env (e.g. LD_PRELOAD of a fault-injection library).
  ServiceProcess(const std::string& name, const std::string& dir, const std::string& brokers,
                 std::vector<std::string> extra_flags = {},
                 std::vector<std::string> extra_env = {});
  void Start();  // (re)starts and waits until it is ready
  void Kill9() { process_->Kill9(); }
  void Stop();  // SIGTERM and wait
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  int http_port() const { return http_port_; }  // 0 unless started with --http.address
  std::string grpc_address() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  ChildProcess& process() { return *process_; }

 private:
  std::string ports_file_;
  std::unique_ptr<ChildProcess> process_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  int http_port_ = 0;
};

}  // namespace loyalty::testing
