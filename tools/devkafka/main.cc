// loyalty-devkafka: an embedded Kafka broker for local runs and tests.
//
// Starts librdkafka's in-process mock cluster, which speaks the real Kafka protocol on loopback
// TCP, and creates the platform's topics on it. It keeps everything in memory and is never a
// production broker: production points bootstrap.servers at a real Kafka cluster.
//
// Usage:
//   loyalty-devkafka [--brokers=N] [--partitions=N] [--bootstrap-file=PATH] [--topics=a,b,c]
//
// Prints "bootstrap.servers=<addr>" on stdout once every topic exists and, with
// --bootstrap-file, writes "<addr>\n" to PATH atomically (tmp + rename) at the same point, so a
// waiting script never reads a half-written address. Runs until SIGTERM or SIGINT, then
// destroys the cluster, removes the bootstrap file and exits 0.
//
// The listening ports are always ephemeral: librdkafka 2.0.2's mock cluster binds each broker to
// 127.0.0.1:0 and has no property or function to choose the port, so there is no --port flag.
// Read the address from stdout or from the bootstrap file.

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h needs the declarations of rdkafka.h: keep it after.
#include <librdkafka/rdkafka_mock.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"

namespace {

// The platform's topics: the three ingest streams, the outgoing events stream, and one
// dead-letter topic per stream a service reads (the events' for referral and notification).
constexpr const char* kDefaultTopics[] = {
    "loyalty.purchases.v1",      "loyalty.refunds.v1",       "loyalty.activities.v1",
    "loyalty.events.v1",         "loyalty.purchases.v1.dlq", "loyalty.refunds.v1.dlq",
    "loyalty.activities.v1.dlq", "loyalty.events.v1.dlq",    "loyalty.apikeys.v1",
};

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

struct Options {
  int brokers = 1;
  int partitions = 4;
  std::string bootstrap_file;
  std::vector<std::string> extra_topics;
};

void PrintUsage(std::FILE* out) {
  std::fputs(
      "usage: loyalty-devkafka [--brokers=N] [--partitions=N] [--bootstrap-file=PATH]\n"
      "                        [--topics=a,b,c]\n"
      "\n"
      "Runs librdkafka's in-process mock Kafka cluster on loopback with the loyalty topics.\n"
      "  --brokers=N             number of mock brokers (default 1)\n"
      "  --partitions=N          partitions per topic (default 4)\n"
      "  --bootstrap-file=PATH   write the bootstrap address to PATH (atomically) when ready\n"
      "  --topics=a,b,c          extra topics to create besides the loyalty ones\n"
      "Prints bootstrap.servers=<addr> on stdout when ready; stops on SIGTERM/SIGINT.\n"
      "Ports are ephemeral: librdkafka 2.0.2's mock cluster cannot listen on a chosen port.\n",
      out);
}

bool ParsePositiveInt(std::string_view text, int max, int* out) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > max) {
    return false;
  }
  *out = value;
  return true;
}

std::vector<std::string> SplitCsv(std::string_view text) {
  std::vector<std::string> parts;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) parts.emplace_back(part);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return parts;
}

// Returns 0 on success, -1 for --help, or kExitUsage after printing the error.
int ParseArgs(int argc, char** argv, Options* opts) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return -1;
    size_t eq = arg.find('=');
    std::string_view name = arg.substr(0, eq);
    if (eq == std::string_view::npos) {
      std::fprintf(stderr, "loyalty-devkafka: flag needs a value: %s (use %s=VALUE)\n", argv[i],
                   argv[i]);
      return kExitUsage;
    }
    std::string_view value = arg.substr(eq + 1);
    bool ok = true;
    if (name == "--brokers") {
      ok = ParsePositiveInt(value, 64, &opts->brokers);
    } else if (name == "--partitions") {
      ok = ParsePositiveInt(value, 10000, &opts->partitions);
    } else if (name == "--bootstrap-file") {
      ok = !value.empty();
      opts->bootstrap_file = std::string(value);
    } else if (name == "--topics") {
      for (auto& t : SplitCsv(value)) opts->extra_topics.push_back(std::move(t));
    } else {
      std::fprintf(stderr, "loyalty-devkafka: unknown flag: %s\n", argv[i]);
      return kExitUsage;
    }
    if (!ok) {
      std::fprintf(stderr, "loyalty-devkafka: bad value for %.*s: '%.*s'\n",
                   static_cast<int>(name.size()), name.data(), static_cast<int>(value.size()),
                   value.data());
      return kExitUsage;
    }
  }
  return 0;
}

// Writes content to path via a temporary file in the same directory and rename(2), so readers
// see either no file or the complete content.
bool WriteFileAtomically(const std::string& path, const std::string& content, std::string* error) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "open " + tmp + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = "write " + tmp + ": " + std::strerror(errno);
      close(fd);
      unlink(tmp.c_str());
      return false;
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    *error = "sync/close " + tmp + ": " + std::strerror(errno);
    unlink(tmp.c_str());
    return false;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "rename " + tmp + " -> " + path + ": " + std::strerror(errno);
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

// Routes librdkafka's own log lines (mock broker errors included) into the structured log.
void RdkafkaLog(const rd_kafka_t* /*rk*/, int level, const char* fac, const char* buf) {
  // The host handle deliberately has no bootstrap.servers: its warning about that is noise.
  if (std::strcmp(fac, "CONFWARN") == 0 && std::strstr(buf, "bootstrap.servers") != nullptr) {
    return;
  }
  loyalty::LogLevel lvl = level <= 3   ? loyalty::LogLevel::kError
                          : level <= 4 ? loyalty::LogLevel::kWarn
                          : level <= 6 ? loyalty::LogLevel::kInfo
                                       : loyalty::LogLevel::kDebug;
  loyalty::Log(lvl, "librdkafka", {{"facility", fac}, {"detail", buf}});
}

}  // namespace

int main(int argc, char** argv) {
  loyalty::SetLogService("devkafka");

  Options opts;
  int parsed = ParseArgs(argc, argv, &opts);
  if (parsed == -1) {
    PrintUsage(stdout);
    return 0;
  }
  if (parsed != 0) {
    PrintUsage(stderr);
    return parsed;
  }

  // Block the stop signals before librdkafka starts its threads, so that every thread inherits
  // the mask and only sigwait() below receives them. A client that disconnects mid-response must
  // not kill the broker with SIGPIPE. A shell starts background jobs with SIGINT ignored, and an
  // ignored signal is discarded instead of queued for sigwait(): restore the default first.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  if (int rc = pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr); rc != 0) {
    loyalty::LogError("pthread_sigmask failed", {{"error", std::strerror(rc)}});
    return kExitFailure;
  }
  signal(SIGPIPE, SIG_IGN);

  // The mock cluster needs an rd_kafka_t for its logging and thread plumbing; a producer with
  // no bootstrap.servers never connects anywhere by itself.
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, RdkafkaLog);
  if (rd_kafka_conf_set(conf, "client.id", "loyalty-devkafka", errstr, sizeof errstr) !=
      RD_KAFKA_CONF_OK) {
    loyalty::LogError("rdkafka config failed", {{"error", errstr}});
    rd_kafka_conf_destroy(conf);
    return kExitFailure;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {  // On failure conf is still ours.
    loyalty::LogError("rd_kafka_new failed", {{"error", errstr}});
    rd_kafka_conf_destroy(conf);
    return kExitFailure;
  }

  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, opts.brokers);
  if (cluster == nullptr) {
    loyalty::LogError("rd_kafka_mock_cluster_new failed",
                      {{"brokers", std::to_string(opts.brokers)}});
    rd_kafka_destroy(rk);
    return kExitFailure;
  }
  const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);

  std::vector<std::string> topics(std::begin(kDefaultTopics), std::end(kDefaultTopics));
  for (const auto& t : opts.extra_topics) {
    if (std::find(topics.begin(), topics.end(), t) == topics.end()) topics.push_back(t);
  }
  // The mock accepts any replication factor up to the broker count; more than 3 buys nothing.
  const int replication = std::min(opts.brokers, 3);
  int exit_code = 0;
  for (const auto& topic : topics) {
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(cluster, topic.c_str(), opts.partitions, replication);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      loyalty::LogError("topic create failed",
                        {{"topic", topic}, {"error", rd_kafka_err2str(err)}});
      exit_code = kExitFailure;
      break;
    }
  }

  if (exit_code == 0 && !opts.bootstrap_file.empty()) {
    std::string error;
    if (!WriteFileAtomically(opts.bootstrap_file, bootstrap + "\n", &error)) {
      loyalty::LogError("cannot write bootstrap file", {{"error", error}});
      exit_code = kExitFailure;
    }
  }

  if (exit_code == 0) {
    std::printf("bootstrap.servers=%s\n", bootstrap.c_str());
    std::fflush(stdout);
    loyalty::LogInfo("dev kafka ready", {{"bootstrap_servers", bootstrap},
                                         {"brokers", std::to_string(opts.brokers)},
                                         {"partitions", std::to_string(opts.partitions)},
                                         {"topics", std::to_string(topics.size())}});

    int sig = 0;
    while (true) {
      int rc = sigwait(&stop_signals, &sig);
      if (rc == 0) break;
      if (rc != EINTR) {
        loyalty::LogError("sigwait failed", {{"error", std::strerror(rc)}});
        exit_code = kExitFailure;
        break;
      }
    }
    loyalty::LogInfo("stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    // The address dies with this process: do not leave it behind for a later reader.
    if (!opts.bootstrap_file.empty()) unlink(opts.bootstrap_file.c_str());
  }

  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return exit_code;
}
