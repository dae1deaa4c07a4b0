#include "common/auth/api_key_feed.h"

#include "common/field_limits.h"
#include "common/log.h"

namespace loyalty::auth {
namespace {

constexpr int kPollMs = 200;
constexpr int kAssignWaitMs = 5000;

}  // namespace

ApiKeyFeed::ApiKeyFeed(KafkaClientSettings kafka, std::string service, std::string topic,
                       ApiKeyBook& book, prometheus::Registry& registry)
    : kafka_(std::move(kafka)),
      service_(std::move(service)),
      topic_(std::move(topic)),
      book_(book) {
  auto& records = prometheus::BuildCounter()
                      .Name("api_keys_records_total")
                      .Help("Records of the API keys topic read: applied, or rejected as malformed")
                      .Register(registry);
  applied_ = &records.Add({{"result", "applied"}});
  rejected_ = &records.Add({{"result", "rejected"}});
  loaded_gauge_ = &prometheus::BuildGauge()
                       .Name("api_keys_loaded")
                       .Help("1 once the API keys topic was read to its end after the start")
                       .Register(registry)
                       .Add({});
}

ApiKeyFeed::~ApiKeyFeed() { Stop(); }

void ApiKeyFeed::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ApiKeyFeed::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

bool ApiKeyFeed::WaitLoaded(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return loaded_cv_.wait_for(lock, timeout, [&] { return loaded_; });
}

void ApiKeyFeed::MarkLoaded() {
  {
    std::lock_guard lock(mu_);
    if (loaded_) return;
    loaded_ = true;
  }
  loaded_gauge_->Set(1);
  LogInfo("api keys loaded", {{"topic", topic_}, {"keys", std::to_string(book_.size())}});
  loaded_cv_.notify_all();
}

bool ApiKeyFeed::Connect(KafkaConsumer& consumer, std::map<TopicPartition, int64_t>* ends) {
  while (!stopping_) {
    Status s = consumer.AssignAll({topic_}, {}, kAssignWaitMs);
    if (s.ok()) {
      bool answered = true;
      for (const auto& tp : consumer.assignment()) {
        int64_t low = 0, high = 0;
        if (!consumer.QueryWatermarks(tp, &low, &high).ok()) {
          answered = false;
          break;
        }
        (*ends)[tp] = high;
      }
      if (answered) return true;
    } else {
      LogWarn("api keys topic not readable yet; bearer keys are refused until it is",
              {{"topic", topic_}, {"error", s.message()}});
    }
  }
  return false;
}

void ApiKeyFeed::Run() {
  auto consumer = KafkaConsumer::Create(kafka_, "loyalty-" + service_ + "-apikeys");
  if (!consumer.ok()) {
    LogError("api keys feed: no consumer", {{"error", consumer.status().message()}});
    return;
  }
  std::map<TopicPartition, int64_t> ends;  // what is left to read before the book is loaded
  if (!Connect(**consumer, &ends)) return;
  std::erase_if(ends, [](const auto& e) { return e.second <= 0; });
  if (ends.empty()) MarkLoaded();
  while (!stopping_) {
    auto message = (*consumer)->Poll(kPollMs);
    if (!message) continue;
    v1::ApiKeyRecord record;
    Status applied = record.ParseFromString(message->value)
                         ? book_.Apply(record)
                         : InvalidArgument("does not decode as loyalty.v1.ApiKeyRecord");
    if (applied.ok()) {
      applied_->Increment();
    } else {
      // Only accrual writes this topic; a bad record is a bug or a stranger's write, and
      // leaving it out refuses a key rather than letting one in.
      rejected_->Increment();
      LogWarn("api keys record rejected", {{"partition", std::to_string(message->partition)},
                                           {"offset", std::to_string(message->offset)},
                                           {"key", Quote(message->key)},
                                           {"error", applied.message()}});
    }
    auto end = ends.find({message->topic, message->partition});
    if (end != ends.end() && message->offset + 1 >= end->second) {
      ends.erase(end);
      if (ends.empty()) MarkLoaded();
    }
  }
}

}  // namespace loyalty::auth
