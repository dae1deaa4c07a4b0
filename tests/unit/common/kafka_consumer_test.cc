// The consumer side of common/kafka.h and common/batch_consumer.h against librdkafka's mock
// cluster in this process (it keeps about 5 MiB per partition and drops older records, like
// retention on a real broker): the lag gauge comes down to 0 after a restart with a backlog
// and stays there while idle; a stored offset below the log start or beyond the log end
// stops that partition (the others go on) and raises the gauge; resuming at the offset an
// operator chose reads from there.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <librdkafka/rdkafkacpp.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/batch_consumer.h"
#include "common/consumer_metrics.h"
#include "common/input.h"
#include "common/kafka.h"
#include "common/key_codec.h"
#include "common/store.h"
#include "tests/support/temp_dir.h"

namespace loyalty {
namespace {

constexpr char kTopic[] = "consumer.test";

class KafkaConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char error[512];
    mock_handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), error, sizeof error);
    ASSERT_NE(mock_handle_, nullptr) << error;
    cluster_ = rd_kafka_mock_cluster_new(mock_handle_, 1);
    ASSERT_NE(cluster_, nullptr);
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, kTopic, 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string e;
    conf->set("bootstrap.servers", bootstrap_, e);
    producer_.reset(RdKafka::Producer::create(conf.get(), e));
    ASSERT_NE(producer_, nullptr) << e;
  }

  void TearDown() override {
    producer_.reset();
    if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
    if (mock_handle_) rd_kafka_destroy(mock_handle_);
  }

  // count records of `size` bytes to partition p.
  void ProduceTo(int32_t p, int count, size_t size) {
    std::string value(size, 'v');
    for (int i = 0; i < count; ++i) {
      ASSERT_EQ(producer_->produce(kTopic, p, RdKafka::Producer::RK_MSG_COPY, value.data(),
                                   value.size(), nullptr, 0, 0, nullptr),
                RdKafka::ERR_NO_ERROR);
    }
    ASSERT_EQ(producer_->flush(10000), RdKafka::ERR_NO_ERROR);
  }

  static double Gauge(prometheus::Registry& registry, const std::string& name,
                      const std::string& partition) {
    for (const auto& family : registry.Collect()) {
      if (family.name != name) continue;
      for (const auto& metric : family.metric) {
        for (const auto& pair : metric.label) {
          if (pair.name == "partition" && pair.value == partition) return metric.gauge.value;
        }
      }
    }
    return -1;
  }

  // Polls for about `ms`; the records read, by partition.
  static std::map<int32_t, std::vector<int64_t>> PollFor(KafkaConsumer& consumer, int ms) {
    std::map<int32_t, std::vector<int64_t>> read;
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      if (auto m = consumer.Poll(50)) read[m->partition].push_back(m->offset);
    }
    return read;
  }

  rd_kafka_t* mock_handle_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
  std::unique_ptr<RdKafka::Producer> producer_;
};

// A consumer keeping its offsets in a map, as a core keeps them in its store.
struct Offsets {
  std::mutex mu;
  std::map<TopicPartition, int64_t> next;
  std::map<TopicPartition, int64_t> Copy() {
    std::lock_guard lock(mu);
    return next;
  }
};

void RunConsumer(const std::string& bootstrap, Offsets& offsets, ConsumerMetrics& metrics,
                 const std::atomic<bool>& running) {
  auto consumer = KafkaConsumer::Create({bootstrap}, "lag-test");
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*consumer)->AssignAll({kTopic}, offsets.Copy()).ok());
  BatchOptions options;
  options.max_batch = 10;  // many batches, all within the first second
  ConsumeAndObserve(
      **consumer, options, running,
      [&](const std::vector<KafkaMessage>& batch) {
        std::lock_guard lock(offsets.mu);
        for (const auto& m : batch) offsets.next[{m.topic, m.partition}] = m.offset + 1;
        return batch.size();
      },
      [](const auto&, size_t, double) {}, [&] { return offsets.Copy(); },
      [&](const auto& lag) { metrics.SetLag(lag); });
}

TEST_F(KafkaConsumerTest, LagComesDownToZeroAfterARestartWithABacklogAndStaysThereWhileIdle) {
  ProduceTo(0, 50, 10);
  Offsets offsets;
  {
    prometheus::Registry registry;
    ConsumerMetrics metrics(registry);
    std::atomic<bool> running{true};
    std::thread t([&] { RunConsumer(bootstrap_, offsets, metrics, running); });
    while (offsets.Copy()[{kTopic, 0}] < 50)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    running = false;
    t.join();
  }
  ProduceTo(0, 200, 10);  // the backlog the restarted consumer finds

  prometheus::Registry registry;
  ConsumerMetrics metrics(registry);
  std::atomic<bool> running{true};
  std::thread t([&] { RunConsumer(bootstrap_, offsets, metrics, running); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (offsets.Copy()[{kTopic, 0}] < 250 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(offsets.Copy()[TopicPartition(kTopic, 0)], 250);
  // The gauge was set with most of the backlog still to read (the first batch is 10 of
  // 200); with nothing more arriving it reaches 0 within about a second.
  bool zero = false;
  while (!zero && std::chrono::steady_clock::now() < deadline) {
    zero = Gauge(registry, "kafka_consumer_lag", "0") == 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(zero) << "lag " << Gauge(registry, "kafka_consumer_lag", "0");
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(Gauge(registry, "kafka_consumer_lag", "0"), 0);
  EXPECT_EQ(Gauge(registry, "kafka_consumer_lag", "1"), 0);
  running = false;
  t.join();
}

TEST_F(KafkaConsumerTest, AnOffsetBelowTheLogStartStopsThatPartitionAndTheOthersGoOn) {
  ProduceTo(0, 80, 100'000);  // 8 MB: the mock drops the oldest beyond ~5 MiB
  ProduceTo(1, 5, 10);
  prometheus::Registry registry;
  auto consumer = KafkaConsumer::Create({bootstrap_}, "oor-test", &registry);
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*consumer)->AssignAll({kTopic}, {{{kTopic, 0}, 3}, {{kTopic, 1}, 0}}).ok());
  EXPECT_EQ(Gauge(registry, "kafka_consumer_offset_out_of_range", "0"), 0);
  auto read = PollFor(**consumer, 3000);
  EXPECT_TRUE(read[0].empty()) << "read from " << read[0].front() << ": skipped silently";
  EXPECT_EQ(read[1].size(), 5u);
  ASSERT_EQ((*consumer)->stopped().size(), 1u);
  const StoppedPartition& stopped = (*consumer)->stopped().at({kTopic, 0});
  EXPECT_EQ(stopped.stored, 3);
  EXPECT_GT(stopped.log_start, 3);
  EXPECT_EQ(stopped.log_end, 80);
  EXPECT_EQ(Gauge(registry, "kafka_consumer_offset_out_of_range", "0"), 1);
  EXPECT_EQ(Gauge(registry, "kafka_consumer_offset_out_of_range", "1"), 0);

  // The operator's choice, stored as the next offset while the service is down.
  auto earliest = ResolveResumeOffset(**consumer, {kTopic, 0}, "earliest");
  ASSERT_TRUE(earliest.ok());
  EXPECT_EQ(*earliest, stopped.log_start);
  EXPECT_FALSE(ResolveResumeOffset(**consumer, {kTopic, 0}, "2").ok());   // deleted
  EXPECT_FALSE(ResolveResumeOffset(**consumer, {kTopic, 0}, "81").ok());  // not written
  EXPECT_FALSE(ResolveResumeOffset(**consumer, {kTopic, 0}, "soon").ok());
  EXPECT_EQ(*ResolveResumeOffset(**consumer, {kTopic, 0}, "latest"), 80);
  consumer->reset();

  prometheus::Registry registry2;
  auto resumed = KafkaConsumer::Create({bootstrap_}, "oor-test", &registry2);
  ASSERT_TRUE(resumed.ok());
  ASSERT_TRUE((*resumed)->AssignAll({kTopic}, {{{kTopic, 0}, *earliest}, {{kTopic, 1}, 5}}).ok());
  read = PollFor(**resumed, 3000);
  ASSERT_EQ(read[0].size(), static_cast<size_t>(80 - *earliest));
  EXPECT_EQ(read[0].front(), *earliest);
  EXPECT_TRUE((*resumed)->stopped().empty());
  EXPECT_EQ(Gauge(registry2, "kafka_consumer_offset_out_of_range", "0"), 0);
}

TEST_F(KafkaConsumerTest, AnOffsetBeyondTheLogEndStopsThatPartition) {
  ProduceTo(0, 5, 10);
  ProduceTo(1, 5, 10);
  prometheus::Registry registry;
  auto consumer = KafkaConsumer::Create({bootstrap_}, "oor-test", &registry);
  ASSERT_TRUE(consumer.ok());
  // As if the topic had been recreated: the service had read 1000 records of partition 1.
  ASSERT_TRUE((*consumer)->AssignAll({kTopic}, {{{kTopic, 0}, 0}, {{kTopic, 1}, 1000}}).ok());
  auto read = PollFor(**consumer, 3000);
  EXPECT_EQ(read[0].size(), 5u);
  EXPECT_TRUE(read[1].empty());
  ASSERT_EQ((*consumer)->stopped().count({kTopic, 1}), 1u);
  const StoppedPartition& stopped = (*consumer)->stopped().at({kTopic, 1});
  EXPECT_EQ(stopped.stored, 1000);
  EXPECT_EQ(stopped.log_start, 0);
  EXPECT_EQ(stopped.log_end, 5);
  EXPECT_EQ(Gauge(registry, "kafka_consumer_offset_out_of_range", "1"), 1);
  EXPECT_EQ(Gauge(registry, "kafka_consumer_offset_out_of_range", "0"), 0);
  EXPECT_EQ(*ResolveResumeOffset(**consumer, {kTopic, 1}, "earliest"), 0);
}

TEST(StoreConsumerOffsetTest, WritesTheOffsetWithTheServiceStoppedAndIsRefusedWhileItRuns) {
  testing::TempDir dir;
  const TopicPartition tp{"loyalty.purchases.v1", 2};
  {
    auto store = Store::Open(dir.path(), {"offsets", "ledger"});
    ASSERT_TRUE(store.ok());
    (*store)->Commit([&](StagedWrite& w) { w.Put("offsets", OffsetKey(tp), keys::EncodeI64(3)); });
    int64_t previous = 0;
    // The service runs: RocksDB's lock refuses, nothing changes.
    Status refused = StoreConsumerOffset(dir.path(), "offsets", tp, 36, &previous);
    EXPECT_EQ(refused.code(), Code::kFailedPrecondition) << refused.ToString();
  }
  int64_t previous = 0;
  ASSERT_TRUE(StoreConsumerOffset(dir.path(), "offsets", tp, 36, &previous).ok());
  EXPECT_EQ(previous, 3);
  ASSERT_TRUE(
      StoreConsumerOffset(dir.path(), "offsets", {"loyalty.refunds.v1", 0}, 7, &previous).ok());
  EXPECT_EQ(previous, -1);
  auto store = Store::Open(dir.path(), {"offsets", "ledger"});
  ASSERT_TRUE(store.ok());
  auto offsets = LoadStoredOffsets(**store, "offsets");
  EXPECT_EQ(offsets.at(tp), 36);
  EXPECT_EQ(offsets.at({"loyalty.refunds.v1", 0}), 7);
  EXPECT_EQ(StoreConsumerOffset(dir.path() + "/none", "offsets", tp, 1, &previous).code(),
            Code::kNotFound);
}

}  // namespace
}  // namespace loyalty
