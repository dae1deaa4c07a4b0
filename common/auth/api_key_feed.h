// Keeps an ApiKeyBook current from loyalty.apikeys.v1: every service reads the whole topic
// (it is small and compacted: one record per key) from the beginning at start and then
// follows it, so that a key created or revoked on accrual is in force or refused on every
// service within about a second, without a restart. No consumer group and no stored offset:
// the book is rebuilt from the topic on every start.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "common/auth/api_keys.h"
#include "common/kafka.h"

namespace loyalty::auth {

class ApiKeyFeed {
 public:
  // api_keys_records_total{result="applied"|"rejected"} and api_keys_loaded go to registry.
  ApiKeyFeed(KafkaClientSettings kafka, std::string service, std::string topic, ApiKeyBook& book,
             prometheus::Registry& registry);
  ~ApiKeyFeed();  // Stop()

  void Start();
  void Stop();
  // Waits until the topic was read to the end it had when the feed started (true), or the
  // timeout passed (false: the topic is missing or the cluster unreachable; keys read later
  // are in force from then on).
  bool WaitLoaded(std::chrono::milliseconds timeout);

 private:
  void Run();
  // Assigns the topic and reads each partition's end; false once stopping.
  bool Connect(KafkaConsumer& consumer, std::map<TopicPartition, int64_t>* ends);
  void MarkLoaded();

  const KafkaClientSettings kafka_;
  const std::string service_;
  const std::string topic_;
  ApiKeyBook& book_;
  prometheus::Counter* applied_;
  prometheus::Counter* rejected_;
  prometheus::Gauge* loaded_gauge_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable loaded_cv_;
  bool loaded_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace loyalty::auth
