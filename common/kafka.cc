#include "common/kafka.h"

#include <chrono>
#include <thread>

#include "common/log.h"

namespace loyalty {
namespace {

Status SetAll(RdKafka::Conf& conf, const KafkaHeaders& properties) {
  std::string error;
  for (const auto& [k, v] : properties) {
    if (conf.set(k, v, error) != RdKafka::Conf::CONF_OK) {
      return InvalidArgument("kafka property " + k + ": " + error);
    }
  }
  return Status::Ok();
}

}  // namespace

bool IsRetriableKafkaError(RdKafka::ErrorCode code) {
  switch (code) {
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED:
    case RdKafka::ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RdKafka::ERR__INVALID_ARG:
    case RdKafka::ERR_INVALID_RECORD:
      return false;
    default:
      return true;
  }
}

class KafkaProducer::DeliveryReporter : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    auto* callback = static_cast<DeliveryCallback*>(message.msg_opaque());
    if (callback == nullptr) return;
    bool ok = message.err() == RdKafka::ERR_NO_ERROR;
    (*callback)(ok, ok ? std::string() : message.errstr());
    delete callback;
  }
};

StatusOr<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(const std::string& brokers,
                                                               const KafkaHeaders& extra) {
  std::unique_ptr<KafkaProducer> producer(new KafkaProducer());
  producer->reporter_ = std::make_unique<DeliveryReporter>();
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  KafkaHeaders properties = {
      {"bootstrap.servers", brokers},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"partitioner", "murmur2_random"},
      {"linger.ms", "2"},
      {"message.timeout.ms", "30000"},
      {"batch.num.messages", "10000"},
      {"queue.buffering.max.messages", "1000000"},
  };
  for (const auto& [k, v] : extra) properties[k] = v;
  if (auto s = SetAll(*conf, properties); !s.ok()) return s;
  std::string error;
  if (conf->set("dr_cb", producer->reporter_.get(), error) != RdKafka::Conf::CONF_OK) {
    return Internal("kafka dr_cb: " + error);
  }
  producer->producer_.reset(RdKafka::Producer::create(conf.get(), error));
  if (!producer->producer_) return Internal("kafka producer: " + error);
  return producer;
}

KafkaProducer::~KafkaProducer() {
  if (producer_) producer_->flush(5000);
}

Status KafkaProducer::Produce(const std::string& topic, std::string_view key,
                              std::string_view value, const KafkaHeaders& headers,
                              DeliveryCallback on_delivery) {
  RdKafka::Headers* kafka_headers = nullptr;
  if (!headers.empty()) {
    kafka_headers = RdKafka::Headers::create();
    for (const auto& [k, v] : headers) kafka_headers->add(k, v);
  }
  auto* callback = on_delivery ? new DeliveryCallback(std::move(on_delivery)) : nullptr;
  for (;;) {
    RdKafka::ErrorCode err =
        producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                           const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0,
                           kafka_headers, callback);
    if (err == RdKafka::ERR_NO_ERROR) return Status::Ok();
    if (err == RdKafka::ERR__QUEUE_FULL) {
      producer_->poll(10);  // the local queue drains as the broker answers
      continue;
    }
    delete kafka_headers;
    delete callback;
    return Internal("kafka produce to " + topic + ": " + RdKafka::err2str(err));
  }
}

void KafkaProducer::Poll(int timeout_ms) { producer_->poll(timeout_ms); }

bool KafkaProducer::Flush(int timeout_ms) {
  return producer_->flush(timeout_ms) == RdKafka::ERR_NO_ERROR;
}

StatusOr<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(const std::string& brokers,
                                                               const std::string& group_id) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  KafkaHeaders properties = {
      {"bootstrap.servers", brokers},
      {"group.id", group_id},
      // Offsets live in the service's RocksDB, written with the effects of the messages.
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"fetch.wait.max.ms", "10"},
  };
  if (auto s = SetAll(*conf, properties); !s.ok()) return s;
  std::string error;
  std::unique_ptr<KafkaConsumer> consumer(new KafkaConsumer());
  consumer->consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer->consumer_) return Internal("kafka consumer: " + error);
  return consumer;
}

KafkaConsumer::~KafkaConsumer() {
  if (consumer_) consumer_->close();
}

Status KafkaConsumer::AssignAll(const std::vector<std::string>& topics,
                                const std::map<TopicPartition, int64_t>& next_offsets,
                                int wait_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  std::vector<RdKafka::TopicPartition*> partitions;
  assigned_.clear();
  for (const auto& topic : topics) {
    for (;;) {
      std::string error;
      std::unique_ptr<RdKafka::Topic> handle(
          RdKafka::Topic::create(consumer_.get(), topic, nullptr, error));
      RdKafka::Metadata* raw = nullptr;
      RdKafka::ErrorCode err = consumer_->metadata(false, handle.get(), &raw, 5000);
      std::unique_ptr<RdKafka::Metadata> metadata(raw);
      int count = 0;
      if (err == RdKafka::ERR_NO_ERROR && metadata->topics()->size() == 1 &&
          metadata->topics()->at(0)->err() == RdKafka::ERR_NO_ERROR) {
        count = static_cast<int>(metadata->topics()->at(0)->partitions()->size());
      }
      if (count > 0) {
        for (int32_t p = 0; p < count; ++p) {
          auto it = next_offsets.find({topic, p});
          int64_t start = it == next_offsets.end() ? RdKafka::Topic::OFFSET_BEGINNING : it->second;
          partitions.push_back(RdKafka::TopicPartition::create(topic, p, start));
          assigned_.emplace_back(topic, p);
        }
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        RdKafka::TopicPartition::destroy(partitions);
        return Internal("kafka topic " + topic + " not found");
      }
      LogWarn("waiting for kafka topic", {{"topic", topic}});
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  RdKafka::ErrorCode err = consumer_->assign(partitions);
  RdKafka::TopicPartition::destroy(partitions);
  if (err != RdKafka::ERR_NO_ERROR) return Internal("kafka assign: " + RdKafka::err2str(err));
  return Status::Ok();
}

std::optional<KafkaMessage> KafkaConsumer::Poll(int timeout_ms) {
  std::unique_ptr<RdKafka::Message> message(consumer_->consume(timeout_ms));
  if (!message) return std::nullopt;
  switch (message->err()) {
    case RdKafka::ERR_NO_ERROR: {
      KafkaMessage out;
      out.topic = message->topic_name();
      out.partition = message->partition();
      out.offset = message->offset();
      if (message->key()) out.key = *message->key();
      if (message->payload()) {
        out.value.assign(static_cast<const char*>(message->payload()), message->len());
      }
      out.timestamp_ms = message->timestamp().timestamp;
      return out;
    }
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__PARTITION_EOF:
      return std::nullopt;
    default:
      LogWarn("kafka consume error", {{"error", message->errstr()}});
      return std::nullopt;
  }
}

std::map<TopicPartition, int64_t> KafkaConsumer::Lag(
    const std::map<TopicPartition, int64_t>& next_offsets) {
  std::map<TopicPartition, int64_t> lag;
  for (const auto& tp : assigned_) {
    int64_t low = 0, high = 0;
    if (consumer_->get_watermark_offsets(tp.first, tp.second, &low, &high) !=
        RdKafka::ERR_NO_ERROR) {
      continue;
    }
    auto it = next_offsets.find(tp);
    int64_t next = it == next_offsets.end() ? low : it->second;
    lag[tp] = std::max<int64_t>(0, high - next);
  }
  return lag;
}

}  // namespace loyalty
