// The outbox relay against librdkafka's mock cluster in this process: records leave in
// outbox order and are deleted once acknowledged; with the broker down they stay, count as
// failures, and leave in order (duplicates allowed) once it is back; a record refused for
// good becomes a dead letter and the records after it leave in order.
#include "common/outbox_relay.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/dead_letter.h"
#include "common/key_codec.h"
#include "tests/support/temp_dir.h"

namespace loyalty {
namespace {

constexpr char kTopic[] = "relay.test";

class OutboxRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    mock_handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    ASSERT_NE(mock_handle_, nullptr) << error;
    cluster_ = rd_kafka_mock_cluster_new(mock_handle_, 1);
    ASSERT_NE(cluster_, nullptr);
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, kTopic, 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);

    auto store = Store::Open(dir_.path(), {kOutboxCf});
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    outbox_ = std::make_unique<Outbox>(*store_);
    // Short timeouts, so that a broker that is down fails deliveries within the test.
    auto producer = KafkaProducer::Create(
        {bootstrap_}, {{"message.timeout.ms", "1500"}, {"socket.timeout.ms", "1000"}});
    ASSERT_TRUE(producer.ok()) << producer.status().ToString();
    producer_ = std::move(*producer);
    relay_ = std::make_unique<OutboxRelay>(*store_, *outbox_, *producer_, registry_);
    relay_->Start();
  }

  void TearDown() override {
    relay_.reset();
    producer_.reset();
    if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
    if (mock_handle_) rd_kafka_destroy(mock_handle_);
  }

  void Add(int from, int to) {
    store_->Commit([&](StagedWrite& write) {
      for (int i = from; i < to; ++i) {
        v1::internal::OutboxRecord record;
        record.set_topic(kTopic);
        record.set_key("member");
        record.set_value("event-" + std::to_string(i));
        outbox_->Add(write, record);
      }
    });
    relay_->Notify();
  }

  double Counter(const std::string& name) {
    for (const auto& family : registry_.Collect()) {
      if (family.name == name && !family.metric.empty()) return family.metric[0].counter.value;
    }
    return 0;
  }

  double CounterWith(const std::string& name, const std::string& label, const std::string& value) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const auto& metric : family.metric) {
        for (const auto& pair : metric.label) {
          if (pair.name == label && pair.value == value) return metric.counter.value;
        }
      }
    }
    return -1;
  }

  void AddOne(const std::string& value) {
    store_->Commit([&](StagedWrite& write) {
      v1::internal::OutboxRecord record;
      record.set_topic(kTopic);
      record.set_key("member");
      record.set_value(value);
      (*record.mutable_headers())["event_id"] = "big";
      outbox_->Add(write, record);
    });
    relay_->Notify();
  }

  std::vector<v1::internal::OutboxRecord> DeadLetters() {
    std::vector<v1::internal::OutboxRecord> letters;
    store_->Scan(kOutboxCf, kOutboxDeadLetterPrefix, "", [&](std::string_view, std::string_view v) {
      letters.emplace_back().ParseFromArray(v.data(), static_cast<int>(v.size()));
      return true;
    });
    return letters;
  }

  double Gauge(const std::string& name) {
    for (const auto& family : registry_.Collect()) {
      if (family.name == name && !family.metric.empty()) return family.metric[0].gauge.value;
    }
    return -1;
  }

  // Everything on the topic, in offset order.
  std::vector<std::string> Published(size_t at_least) {
    auto consumer = KafkaConsumer::Create({bootstrap_}, "relay-test");
    EXPECT_TRUE(consumer.ok());
    EXPECT_TRUE((*consumer)->AssignAll({kTopic}, {}).ok());
    std::vector<std::string> values;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (values.size() < at_least && std::chrono::steady_clock::now() < deadline) {
      if (auto m = (*consumer)->Poll(100)) values.push_back(m->value);
    }
    return values;
  }

  bool Eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 400; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
  }

  testing::TempDir dir_;
  rd_kafka_t* mock_handle_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<KafkaProducer> producer_;
  prometheus::Registry registry_;
  std::unique_ptr<OutboxRelay> relay_;
};

TEST_F(OutboxRelayTest, PublishesInOrderAndDeletesWhatWasAcknowledged) {
  for (int batch = 0; batch < 5; ++batch) Add(batch * 1000, (batch + 1) * 1000);
  ASSERT_TRUE(Eventually([&] { return relay_->Pending() == 0; }));
  EXPECT_TRUE(Eventually([&] { return Gauge("outbox_pending") == 0; }));
  std::vector<std::string> values = Published(5000);
  ASSERT_EQ(values.size(), 5000u);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(values[i], "event-" + std::to_string(i));
  EXPECT_EQ(Counter("outbox_published_total"), 5000);
  EXPECT_EQ(Counter("outbox_publish_failures_total"), 0);
}

TEST_F(OutboxRelayTest, ABrokerDownKeepsRecordsAndTheyLeaveInOrderOnceItIsBack) {
  Add(0, 100);
  ASSERT_TRUE(Eventually([&] { return relay_->Pending() == 0; }));
  ASSERT_EQ(rd_kafka_mock_broker_set_down(cluster_, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  Add(100, 300);
  ASSERT_TRUE(Eventually([&] { return Counter("outbox_publish_failures_total") > 0; }));
  EXPECT_GT(relay_->Pending(), 0u);         // nothing deleted that was not acknowledged
  EXPECT_EQ(Gauge("outbox_pending"), 200);  // the gauge counts them without a scan
  ASSERT_EQ(rd_kafka_mock_broker_set_up(cluster_, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  Add(300, 400);
  ASSERT_TRUE(Eventually([&] { return relay_->Pending() == 0; }));
  // Every record arrived; a record may repeat after a failure, but the first arrival of
  // each comes in outbox order.
  std::vector<std::string> values = Published(400);
  std::vector<std::string> first_arrivals;
  std::set<std::string> seen;
  for (const auto& v : values) {
    if (seen.insert(v).second) first_arrivals.push_back(v);
  }
  ASSERT_EQ(first_arrivals.size(), 400u);
  for (int i = 0; i < 400; ++i) ASSERT_EQ(first_arrivals[i], "event-" + std::to_string(i));
}

TEST_F(OutboxRelayTest, ARecordTooLargeForTheBrokerBecomesADeadLetterAndTheRestGoOnInOrder) {
  Add(0, 10);
  // Over message.max.bytes (1 MB by default, as on a real broker): librdkafka refuses it.
  AddOne(std::string(2'000'000, 'x'));
  Add(10, 20);
  ASSERT_TRUE(Eventually([&] { return relay_->Pending() == 0; }));
  std::vector<std::string> values = Published(20);
  ASSERT_EQ(values.size(), 20u);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(values[i], "event-" + std::to_string(i));

  std::vector<v1::internal::OutboxRecord> letters = DeadLetters();
  ASSERT_EQ(letters.size(), 1u);
  const auto& headers = letters[0].headers();
  EXPECT_EQ(letters[0].topic(), kTopic);
  EXPECT_EQ(letters[0].key(), "member");
  EXPECT_EQ(letters[0].value(), std::string(kDeadLetterValuePrefix, 'x'));
  EXPECT_EQ(headers.at("dead_letter.reason"), "msg_size_too_large");
  EXPECT_EQ(headers.at("dead_letter.value_size"), "2000000");
  EXPECT_EQ(headers.at("dead_letter.outbox_key"), "11");
  EXPECT_EQ(headers.at("event_id"), "big");
  EXPECT_GT(std::stoll(headers.at("dead_letter.at_ms")), 0);
  EXPECT_EQ(CounterWith("outbox_dead_letters_total", "reason", "msg_size_too_large"), 1);
  EXPECT_EQ(Counter("outbox_publish_failures_total"), 0);
  EXPECT_TRUE(Eventually([&] { return Gauge("outbox_pending") == 0; }));

  // loyaltyctl outbox dead-letters reads them while the store is open (the service runs).
  auto read = ReadOutboxDeadLetters(dir_.path(), 10);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].headers().at("dead_letter.reason"), "msg_size_too_large");
  EXPECT_EQ((*read)[0].value().size(), kDeadLetterValuePrefix);
  EXPECT_FALSE(ReadOutboxDeadLetters(dir_.path() + "/nothing-here", 10).ok());

  // A restarted outbox numbers on after its records (none left: from 1), not after the
  // dead letters' keys, which sort after them.
  relay_.reset();
  Outbox reopened(*store_);
  EXPECT_EQ(reopened.NextKey(), 1u);
}

TEST_F(OutboxRelayTest, ARecordTheBrokerRefusesAsInvalidBecomesADeadLetter) {
  Add(0, 5);
  ASSERT_TRUE(Eventually([&] { return relay_->Pending() == 0; }));
  // The broker's answer to the next two produce requests (the mock keeps no size limit
  // itself): the first refusal may be of a batch, so the record is sent again alone.
  rd_kafka_mock_push_request_errors(cluster_, 0 /* Produce */, 2, RD_KAFKA_RESP_ERR_INVALID_RECORD,
                                    RD_KAFKA_RESP_ERR_INVALID_RECORD);
  AddOne("poison");
  ASSERT_TRUE(Eventually([&] { return DeadLetters().size() == 1; }));
  Add(5, 10);
  ASSERT_TRUE(Eventually([&] { return relay_->Pending() == 0; }));
  std::vector<std::string> values = Published(10);
  ASSERT_EQ(values.size(), 10u);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(values[i], "event-" + std::to_string(i));
  std::vector<v1::internal::OutboxRecord> letters = DeadLetters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].value(), "poison");
  EXPECT_EQ(letters[0].headers().at("dead_letter.reason"), "invalid_record");
  EXPECT_EQ(CounterWith("outbox_dead_letters_total", "reason", "invalid_record"), 1);
  EXPECT_EQ(CounterWith("outbox_dead_letters_total", "reason", "msg_size_too_large"), 0);
}

TEST_F(OutboxRelayTest, ABatchTheBrokerRefusesIsSentAgainOneByOneAndOnlyTheRefusedRecordIsDead) {
  Add(0, 5);
  ASSERT_TRUE(Eventually([&] { return relay_->Pending() == 0; }));
  // The broker refuses the next request, whatever records it carries, and then the next:
  // the first record sent alone after the refusal.
  rd_kafka_mock_push_request_errors(cluster_, 0 /* Produce */, 2, RD_KAFKA_RESP_ERR_INVALID_RECORD,
                                    RD_KAFKA_RESP_ERR_INVALID_RECORD);
  Add(5, 25);  // one commit: they leave in one or few batches
  ASSERT_TRUE(Eventually([&] { return relay_->Pending() == 0; }));
  std::vector<v1::internal::OutboxRecord> letters = DeadLetters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].value(), "event-5");
  std::vector<std::string> values = Published(24);
  std::vector<std::string> first_arrivals;
  std::set<std::string> seen;
  for (const auto& v : values) {
    if (seen.insert(v).second) first_arrivals.push_back(v);
  }
  ASSERT_EQ(first_arrivals.size(), 24u);
  for (int i = 0; i < 24; ++i) {
    ASSERT_EQ(first_arrivals[i], "event-" + std::to_string(i < 5 ? i : i + 1));
  }
}

}  // namespace
}  // namespace loyalty
