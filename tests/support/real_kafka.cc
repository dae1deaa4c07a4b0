// A clean slate on a real Kafka cluster for each test: the services' topic names are fixed, so
// a test cannot get fresh topics by name as it does from a fresh dev broker; it deletes and
// recreates them through librdkafka's Admin API instead.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/process.h"

namespace loyalty::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

Handle Connect(const std::string& bootstrap) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof error) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("bootstrap.servers: ") + error);
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (rk == nullptr) throw std::runtime_error(std::string("rd_kafka_new: ") + error);
  return Handle(rk);
}

struct Metadata {
  int brokers = 0;
  // topic -> ready: every partition (of the expected count) has a leader and a full ISR.
  std::set<std::string> present;
  std::set<std::string> ready;
};

bool ReadMetadata(rd_kafka_t* rk, int partitions, Metadata* out) {
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk, 1, nullptr, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  out->brokers = md->broker_cnt;
  for (int t = 0; t < md->topic_cnt; ++t) {
    const rd_kafka_metadata_topic_t& topic = md->topics[t];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    out->present.insert(topic.topic);
    bool ready = topic.partition_cnt == partitions;
    for (int p = 0; p < topic.partition_cnt; ++p) {
      const rd_kafka_metadata_partition_t& part = topic.partitions[p];
      if (part.err != RD_KAFKA_RESP_ERR_NO_ERROR || part.leader < 0 ||
          part.isr_cnt < part.replica_cnt) {
        ready = false;
      }
    }
    if (ready) out->ready.insert(topic.topic);
  }
  rd_kafka_metadata_destroy(md);
  return true;
}

// Runs one admin request and returns each topic's error code by name.
template <typename Submit, typename Results>
std::vector<std::pair<std::string, rd_kafka_resp_err_t>> RunAdmin(rd_kafka_t* rk, Submit submit,
                                                                  Results results,
                                                                  rd_kafka_event_type_t type) {
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ANY);
  char error[512];
  rd_kafka_AdminOptions_set_request_timeout(options, 10000, error, sizeof error);
  rd_kafka_AdminOptions_set_operation_timeout(options, 10000, error, sizeof error);
  submit(options, queue);
  std::vector<std::pair<std::string, rd_kafka_resp_err_t>> out;
  rd_kafka_event_t* event = nullptr;
  while ((event = rd_kafka_queue_poll(queue, 30000)) != nullptr &&
         rd_kafka_event_type(event) != type) {
    rd_kafka_event_destroy(event);
  }
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  if (event == nullptr) throw std::runtime_error("kafka admin request timed out");
  if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::string message = rd_kafka_event_error_string(event);
    rd_kafka_event_destroy(event);
    throw std::runtime_error("kafka admin request failed: " + message);
  }
  size_t count = 0;
  const rd_kafka_topic_result_t** topics = results(event, &count);
  for (size_t i = 0; i < count; ++i) {
    out.emplace_back(rd_kafka_topic_result_name(topics[i]), rd_kafka_topic_result_error(topics[i]));
  }
  rd_kafka_event_destroy(event);
  return out;
}

}  // namespace

std::string RealKafkaBootstrap() {
  const char* mode = std::getenv("LOYALTY_TEST_KAFKA");
  if (mode == nullptr || std::string(mode) != "real") return "";
  const char* bootstrap = std::getenv("LOYALTY_TEST_KAFKA_BOOTSTRAP");
  if (bootstrap != nullptr && *bootstrap != '\0') return bootstrap;
  return "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094";  // scripts/kafka.sh --brokers=3
}

const std::vector<std::string>& PlatformTopics() {
  static const std::vector<std::string> topics = {
      "loyalty.purchases.v1",      "loyalty.refunds.v1",       "loyalty.activities.v1",
      "loyalty.events.v1",         "loyalty.purchases.v1.dlq", "loyalty.refunds.v1.dlq",
      "loyalty.activities.v1.dlq", "loyalty.events.v1.dlq",    "loyalty.apikeys.v1",
  };
  return topics;
}

void RecreateTopics(const std::string& bootstrap, const std::vector<std::string>& topics,
                    int partitions, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  Handle rk = Connect(bootstrap);
  auto fail = [&](const std::string& what) {
    throw std::runtime_error("real kafka at " + bootstrap + ": " + what);
  };

  Metadata md;
  while (!ReadMetadata(rk.get(), partitions, &md)) {
    if (Clock::now() > deadline) fail("no metadata");
  }
  const int replication = std::min(md.brokers, 3);
  const std::string min_insync = replication >= 3 ? "2" : "1";

  std::vector<rd_kafka_DeleteTopic_t*> deletes;
  for (const auto& t : topics) {
    if (md.present.count(t)) deletes.push_back(rd_kafka_DeleteTopic_new(t.c_str()));
  }
  if (!deletes.empty()) {
    auto results = RunAdmin(
        rk.get(),
        [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
          rd_kafka_DeleteTopics(rk.get(), deletes.data(), deletes.size(), options, queue);
        },
        [](rd_kafka_event_t* event, size_t* count) {
          return rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event),
                                                     count);
        },
        RD_KAFKA_EVENT_DELETETOPICS_RESULT);
    rd_kafka_DeleteTopic_destroy_array(deletes.data(), deletes.size());
    for (const auto& [name, err] : results) {
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        fail("delete " + name + ": " + rd_kafka_err2str(err));
      }
    }
  }

  // Deletion is asynchronous: a create of a name still being deleted fails with
  // TOPIC_ALREADY_EXISTS, so it is retried until it succeeds.
  std::set<std::string> to_create(topics.begin(), topics.end());
  while (!to_create.empty()) {
    if (Clock::now() > deadline) fail("topics still being deleted: " + *to_create.begin());
    char error[512];
    std::vector<rd_kafka_NewTopic_t*> creates;
    for (const auto& t : to_create) {
      rd_kafka_NewTopic_t* topic =
          rd_kafka_NewTopic_new(t.c_str(), partitions, replication, error, sizeof error);
      if (topic == nullptr) fail(std::string("NewTopic: ") + error);
      rd_kafka_NewTopic_set_config(topic, "min.insync.replicas", min_insync.c_str());
      creates.push_back(topic);
    }
    auto results = RunAdmin(
        rk.get(),
        [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
          rd_kafka_CreateTopics(rk.get(), creates.data(), creates.size(), options, queue);
        },
        [](rd_kafka_event_t* event, size_t* count) {
          return rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event),
                                                     count);
        },
        RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    rd_kafka_NewTopic_destroy_array(creates.data(), creates.size());
    for (const auto& [name, err] : results) {
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        to_create.erase(name);
      } else if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        fail("create " + name + ": " + rd_kafka_err2str(err));
      }
    }
    if (!to_create.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  // Created is not yet usable everywhere: wait until every partition is led and replicated.
  WaitTopicsReady(bootstrap, topics, partitions,
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

void WaitTopicsReady(const std::string& bootstrap, const std::vector<std::string>& topics,
                     int partitions, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  Handle rk = Connect(bootstrap);
  // Metadata comes from whichever broker answers: several answers in a row must agree.
  int ready_in_a_row = 0;
  while (ready_in_a_row < 3) {
    if (Clock::now() > deadline) {
      throw std::runtime_error("real kafka at " + bootstrap +
                               ": topics without a leader or a full ISR");
    }
    Metadata now;
    bool all = ReadMetadata(rk.get(), partitions, &now);
    for (const auto& t : topics) all = all && now.ready.count(t) > 0;
    ready_in_a_row = all ? ready_in_a_row + 1 : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

int PartitionLeader(const std::string& bootstrap, const std::string& topic, int partition) {
  Handle rk = Connect(bootstrap);
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk.get(), 1, nullptr, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return -1;
  }
  int leader = -1;
  for (int t = 0; t < md->topic_cnt; ++t) {
    if (topic != md->topics[t].topic) continue;
    for (int p = 0; p < md->topics[t].partition_cnt; ++p) {
      if (md->topics[t].partitions[p].id == partition) leader = md->topics[t].partitions[p].leader;
    }
  }
  rd_kafka_metadata_destroy(md);
  return leader;
}

pid_t RealKafkaNodePid(int node) {
  const char* dir = std::getenv("LOYALTY_KAFKA_DIR");
  std::string path = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp/loyalty-kafka") +
                     "/node" + std::to_string(node) + ".pid";
  std::ifstream in(path);
  pid_t pid = -1;
  if (!(in >> pid)) throw std::runtime_error("no pid file " + path + " (scripts/kafka.sh)");
  return pid;
}

}  // namespace loyalty::testing
