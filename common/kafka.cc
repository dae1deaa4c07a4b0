#include "common/kafka.h"

#include <librdkafka/rdkafka.h>

#include <rocksdb/db.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <thread>

#include "common/key_codec.h"
#include "common/log.h"
#include "common/store.h"

namespace loyalty {
namespace {

// The client's configuration: its defaults, then the settings' properties, then extra; and
// the event logger.
StatusOr<std::unique_ptr<RdKafka::Conf>> NewConf(KafkaProperties properties,
                                                 const KafkaClientSettings& settings,
                                                 const KafkaProperties& extra,
                                                 KafkaEventLogger* events) {
  properties["bootstrap.servers"] = settings.brokers;
  for (const auto& [k, v] : settings.properties) properties[k] = v;
  for (const auto& [k, v] : extra) properties[k] = v;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  for (const auto& [k, v] : properties) {
    if (conf->set(k, v, error) != RdKafka::Conf::CONF_OK) {
      return InvalidArgument("kafka property " + k + ": " + error);
    }
  }
  if (conf->set("event_cb", static_cast<RdKafka::EventCb*>(events), error) !=
      RdKafka::Conf::CONF_OK) {
    return Internal("kafka event_cb: " + error);
  }
  return conf;
}

LogLevel LevelOfSyslog(int severity) {
  if (severity <= RdKafka::Event::EVENT_SEVERITY_ERROR) return LogLevel::kError;
  if (severity == RdKafka::Event::EVENT_SEVERITY_WARNING) return LogLevel::kWarn;
  if (severity == RdKafka::Event::EVENT_SEVERITY_DEBUG) return LogLevel::kDebug;
  return LogLevel::kInfo;
}

}  // namespace

bool IsPermanentRecordError(RdKafka::ErrorCode code) {
  switch (code) {
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:     // over message.max.bytes (client or broker)
    case RdKafka::ERR_RECORD_LIST_TOO_LARGE:  // the batch of this one record is too large
    case RdKafka::ERR_INVALID_MSG_SIZE:       // a size the broker cannot take
    case RdKafka::ERR_INVALID_RECORD:         // the broker's validation refused it
    case RdKafka::ERR_INVALID_TIMESTAMP:      // outside the topic's timestamp range
    case RdKafka::ERR__INVALID_ARG:           // refused by produce(): a key or header too large
      return true;
    default:
      return false;
  }
}

std::string KafkaErrorName(RdKafka::ErrorCode code) {
  std::string name = rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(code));
  if (!name.empty() && name[0] == '_') name.erase(0, 1);  // local errors: "_INVALID_ARG"
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

bool IsSecurityError(RdKafka::ErrorCode code) {
  switch (code) {
    case RdKafka::ERR__AUTHENTICATION:  // SASL refused, or no client certificate
    case RdKafka::ERR__SSL:             // the TLS handshake failed
    case RdKafka::ERR_SASL_AUTHENTICATION_FAILED:
    case RdKafka::ERR_UNSUPPORTED_SASL_MECHANISM:
    case RdKafka::ERR_ILLEGAL_SASL_STATE:
      return true;
    default:
      return false;
  }
}

void KafkaEventLogger::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_LOG:
      Log(LevelOfSyslog(event.severity()), "librdkafka: " + event.str(), {{"fac", event.fac()}});
      return;
    case RdKafka::Event::EVENT_ERROR: {
      const RdKafka::ErrorCode code = event.err();
      if (IsSecurityError(code)) {
        {
          std::lock_guard lock(mu_);
          last_security_error_ = event.str();
        }
        LogError("kafka authentication failed",
                 {{"reason", KafkaErrorName(code)},
                  {"error", event.str()},
                  {"check",
                   "kafka.security_protocol, kafka.sasl_mechanism, kafka.sasl_username, "
                   "kafka.sasl_password, kafka.ssl_* (docs/operations.md)"}});
        return;
      }
      Log(event.fatal() ? LogLevel::kError : LogLevel::kWarn, "kafka error",
          {{"reason", KafkaErrorName(code)}, {"error", event.str()}});
      return;
    }
    default:
      return;
  }
}

std::string KafkaEventLogger::last_security_error() const {
  std::lock_guard lock(mu_);
  return last_security_error_;
}

namespace {
DeliveryResult ResultOf(RdKafka::ErrorCode err, std::string message) {
  DeliveryResult result;
  result.delivered = err == RdKafka::ERR_NO_ERROR;
  if (!result.delivered) {
    result.permanent = IsPermanentRecordError(err);
    result.reason = KafkaErrorName(err);
    result.error = std::move(message);
  }
  return result;
}
}  // namespace

class KafkaProducer::DeliveryReporter : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    auto* callback = static_cast<DeliveryCallback*>(message.msg_opaque());
    if (callback == nullptr) return;
    (*callback)(ResultOf(message.err(), message.errstr()));
    delete callback;
  }
};

StatusOr<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(const KafkaClientSettings& settings,
                                                               const KafkaProperties& extra) {
  std::unique_ptr<KafkaProducer> producer(new KafkaProducer());
  producer->reporter_ = std::make_unique<DeliveryReporter>();
  producer->events_ = std::make_unique<KafkaEventLogger>();
  const KafkaProperties defaults = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"partitioner", "murmur2_random"},
      {"linger.ms", "2"},
      {"message.timeout.ms", "30000"},
      {"batch.num.messages", "10000"},
      {"queue.buffering.max.messages", "1000000"},
  };
  auto made = NewConf(defaults, settings, extra, producer->events_.get());
  if (!made.ok()) return made.status();
  std::unique_ptr<RdKafka::Conf> conf = std::move(*made);
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

StatusOr<int32_t> KafkaProducer::PartitionCount(const std::string& topic, int wait_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    std::string error;
    std::unique_ptr<RdKafka::Topic> handle(
        RdKafka::Topic::create(producer_.get(), topic, nullptr, error));
    RdKafka::Metadata* raw = nullptr;
    RdKafka::ErrorCode err = producer_->metadata(false, handle.get(), &raw, 5000);
    std::unique_ptr<RdKafka::Metadata> metadata(raw);
    if (err == RdKafka::ERR_NO_ERROR && metadata->topics()->size() == 1 &&
        metadata->topics()->at(0)->err() == RdKafka::ERR_NO_ERROR &&
        !metadata->topics()->at(0)->partitions()->empty()) {
      return static_cast<int32_t>(metadata->topics()->at(0)->partitions()->size());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Internal("kafka topic " + topic + ": no broker told its partitions");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

Status KafkaProducer::Produce(const std::string& topic, std::string_view key,
                              std::string_view value, const KafkaHeaders& headers,
                              DeliveryCallback on_delivery, DeliveryResult* refused) {
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
    if (refused != nullptr) *refused = ResultOf(err, RdKafka::err2str(err));
    return Internal("kafka produce to " + topic + ": " + RdKafka::err2str(err));
  }
}

void KafkaProducer::Poll(int timeout_ms) { producer_->poll(timeout_ms); }

bool KafkaProducer::Flush(int timeout_ms) {
  return producer_->flush(timeout_ms) == RdKafka::ERR_NO_ERROR;
}

StatusOr<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(const KafkaClientSettings& settings,
                                                               const std::string& group_id,
                                                               prometheus::Registry* registry) {
  std::unique_ptr<KafkaConsumer> consumer(new KafkaConsumer());
  consumer->events_ = std::make_unique<KafkaEventLogger>();
  const KafkaProperties defaults = {
      {"group.id", group_id},
      // Offsets live in the service's RocksDB, written with the effects of the messages.
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      // An offset out of range (retention deleted what the service had not read, or the
      // topic was recreated) stops the partition instead of jumping silently: see Poll.
      {"auto.offset.reset", "error"},
      {"enable.partition.eof", "false"},
      {"fetch.wait.max.ms", "10"},
  };
  auto conf = NewConf(defaults, settings, {}, consumer->events_.get());
  if (!conf.ok()) return conf.status();
  std::string error;
  consumer->consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!consumer->consumer_) return Internal("kafka consumer: " + error);
  if (registry != nullptr) {
    consumer->out_of_range_ =
        &prometheus::BuildGauge()
             .Name("kafka_consumer_offset_out_of_range")
             .Help(
                 "1 while a partition is stopped because its stored offset is outside the "
                 "log (below its start or beyond its end); see docs/operations.md")
             .Register(*registry);
  }
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
  stopped_.clear();
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
        partition_counts_[topic] = count;
        for (int32_t p = 0; p < count; ++p) {
          if (!owned_.Owns(p)) continue;  // another instance's
          auto it = next_offsets.find({topic, p});
          int64_t start = it == next_offsets.end() ? RdKafka::Topic::OFFSET_BEGINNING : it->second;
          partitions.push_back(RdKafka::TopicPartition::create(topic, p, start));
          assigned_.emplace_back(topic, p);
          if (out_of_range_ != nullptr) {
            out_of_range_->Add({{"topic", topic}, {"partition", std::to_string(p)}}).Set(0);
          }
        }
        break;
      }
      if (err != RdKafka::ERR_NO_ERROR) {
        // No broker answered: serve the client's events (no partition is assigned yet, so
        // no message comes), which tells a refused login from a cluster still starting.
        std::unique_ptr<RdKafka::Message> none(consumer_->consume(0));
        if (std::string security = events_->last_security_error(); !security.empty()) {
          RdKafka::TopicPartition::destroy(partitions);
          return FailedPrecondition("kafka authentication failed: " + security);
        }
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
    case RdKafka::ERR__AUTO_OFFSET_RESET:
      // librdkafka stopped fetching this partition (auto.offset.reset=error): it stays so.
      Stop({message->topic_name(), message->partition()}, message->offset());
      return std::nullopt;
    default:
      LogWarn("kafka consume error", {{"error", message->errstr()}});
      return std::nullopt;
  }
}

void KafkaConsumer::Stop(const TopicPartition& tp, int64_t stored) {
  StoppedPartition& stopped = stopped_[tp];
  stopped.stored = stored;
  Status s = QueryWatermarks(tp, &stopped.log_start, &stopped.log_end);
  if (out_of_range_ != nullptr) {
    out_of_range_->Add({{"topic", tp.first}, {"partition", std::to_string(tp.second)}}).Set(1);
  }
  std::string lost;
  if (!s.ok()) {
    lost = "unknown: " + s.message();
  } else if (stored < stopped.log_start) {
    lost = std::to_string(stopped.log_start - stored) + " records (offsets " +
           std::to_string(stored) + ".." + std::to_string(stopped.log_start - 1) +
           ") deleted by retention before this service read them";
  } else {
    lost =
        "unknown: the stored offset is beyond the log end (the topic was recreated or "
        "truncated); records " +
        std::to_string(stopped.log_end) + ".." + std::to_string(stored - 1) +
        " of the new log would be skipped by resuming at the stored offset";
  }
  LogError("kafka partition stopped: stored offset out of range",
           {{"topic", tp.first},
            {"partition", std::to_string(tp.second)},
            {"stored_offset", std::to_string(stored)},
            {"log_start", std::to_string(stopped.log_start)},
            {"log_end", std::to_string(stopped.log_end)},
            {"lost", lost},
            {"resume", "loyaltyctl consumer resume (docs/operations.md)"}});
}

Status KafkaConsumer::QueryWatermarks(const TopicPartition& tp, int64_t* low, int64_t* high,
                                      int timeout_ms) {
  RdKafka::ErrorCode err =
      consumer_->query_watermark_offsets(tp.first, tp.second, low, high, timeout_ms);
  if (err != RdKafka::ERR_NO_ERROR) {
    *low = *high = -1;
    return Internal("kafka watermarks of " + tp.first + "/" + std::to_string(tp.second) + ": " +
                    RdKafka::err2str(err));
  }
  return Status::Ok();
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

StatusOr<int64_t> ResolveResumeOffset(KafkaConsumer& consumer, const TopicPartition& tp,
                                      std::string_view from) {
  int64_t low = -1, high = -1;
  if (Status s = consumer.QueryWatermarks(tp, &low, &high); !s.ok()) return s;
  if (from == "earliest") return low;
  if (from == "latest") return high;
  int64_t offset = 0;
  auto [end, ec] = std::from_chars(from.data(), from.data() + from.size(), offset);
  if (ec != std::errc() || end != from.data() + from.size()) {
    return InvalidArgument("offset must be earliest, latest or a number, got '" +
                           std::string(from.substr(0, 32)) + "'");
  }
  if (offset < low || offset > high) {
    return InvalidArgument("offset " + std::to_string(offset) + " is outside the log of " +
                           tp.first + "/" + std::to_string(tp.second) + " [" + std::to_string(low) +
                           ", " + std::to_string(high) + "]");
  }
  return offset;
}

Status StoreConsumerOffset(const std::string& data_dir, std::string_view offsets_cf,
                           const TopicPartition& tp, int64_t offset, int64_t* previous) {
  std::vector<std::string> names;
  rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), data_dir, &names);
  if (!listed.ok()) return NotFound("no service store at " + data_dir + ": " + listed.ToString());
  if (std::find(names.begin(), names.end(), offsets_cf) == names.end()) {
    return NotFound("the store at " + data_dir + " keeps no consumer offsets");
  }
  names.erase(std::remove(names.begin(), names.end(), rocksdb::kDefaultColumnFamilyName),
              names.end());
  auto store = Store::Open(data_dir, names);
  if (!store.ok()) {
    return FailedPrecondition("cannot open the store (stop the service first): " +
                              store.status().message());
  }
  std::string value;
  *previous = (*store)->Get(offsets_cf, OffsetKey(tp), &value) ? keys::ReadI64(value) : -1;
  (*store)->Commit(
      [&](StagedWrite& write) { write.Put(offsets_cf, OffsetKey(tp), keys::EncodeI64(offset)); });
  return Status::Ok();
}

}  // namespace loyalty
