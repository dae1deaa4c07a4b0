#include "common/outbox.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include "common/key_codec.h"
#include "common/log.h"

namespace loyalty {
namespace {
constexpr size_t kRelayBatch = 2000;
constexpr auto kShutdownFlush = std::chrono::seconds(5);
}  // namespace

Outbox::Outbox(Store& store) {
  uint64_t last = 0;
  store.ScanBackward(kOutboxCf, "", "", [&](std::string_view key, std::string_view) {
    last = keys::ReadU64(key);
    return false;
  });
  next_key_ = last + 1;
}

void Outbox::Add(StagedWrite& write, const loyalty::v1::internal::OutboxRecord& record) {
  std::string key;
  keys::AppendU64(key, next_key_.fetch_add(1));
  write.Put(kOutboxCf, key, record.SerializeAsString());
}

OutboxRelay::OutboxRelay(Store& store, KafkaProducer& producer, prometheus::Registry& registry)
    : store_(store),
      producer_(producer),
      published_family_(prometheus::BuildCounter()
                            .Name("outbox_published_total")
                            .Help("Messages the outbox relay published and the broker acknowledged")
                            .Register(registry)),
      failures_(prometheus::BuildCounter()
                    .Name("outbox_publish_failures_total")
                    .Help("Outbox messages the broker did not acknowledge; they are sent again")
                    .Register(registry)
                    .Add({})),
      pending_(prometheus::BuildGauge()
                   .Name("outbox_pending")
                   .Help("Messages waiting in the outbox after the last relay pass")
                   .Register(registry)
                   .Add({})) {}

OutboxRelay::~OutboxRelay() { Stop(); }

void OutboxRelay::Start() {
  running_ = true;
  thread_ = std::thread([this] { Run(); });
}

void OutboxRelay::Stop() {
  if (!running_.exchange(false)) return;
  Notify();
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::Notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  cv_.notify_one();
}

uint64_t OutboxRelay::Pending() const {
  uint64_t count = 0;
  store_.Scan(kOutboxCf, "", "", [&](std::string_view, std::string_view) {
    ++count;
    return true;
  });
  return count;
}

void OutboxRelay::Run() {
  int backoff_ms = 0;
  while (running_) {
    PassResult pass = PublishBatch();
    bool failed = pass.acked < pass.sent;
    backoff_ms = failed ? std::clamp(backoff_ms * 2, 50, 5000) : 0;
    if (!failed && pass.sent == kRelayBatch) continue;  // more may be waiting
    std::unique_lock lock(mu_);
    int wait_ms = failed ? backoff_ms : 50;
    cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return notified_ && !failed; });
    notified_ = false;
  }
  // Last pass on shutdown so that committed events leave promptly.
  PublishBatch();
}

OutboxRelay::PassResult OutboxRelay::PublishBatch() {
  struct Sent {
    std::string key;
    std::string topic;
    bool acked = false;
  };
  // Shared with the delivery callbacks, which may outlive this pass if it stops waiting.
  auto sent_ptr = std::make_shared<std::vector<Sent>>();
  std::vector<Sent>& sent = *sent_ptr;
  sent.reserve(kRelayBatch);
  store_.Scan(kOutboxCf, cursor_, "", [&](std::string_view key, std::string_view value) {
    loyalty::v1::internal::OutboxRecord record;
    if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      LogError("undecodable outbox record skipped", {{"key_size", std::to_string(key.size())}});
      sent.push_back({std::string(key), "", true});
      return sent.size() < kRelayBatch;
    }
    KafkaHeaders headers(record.headers().begin(), record.headers().end());
    size_t index = sent.size();
    sent.push_back({std::string(key), record.topic(), false});
    Status s = producer_.Produce(record.topic(), record.key(), record.value(), headers,
                                 [sent_ptr, index](bool ok, const std::string& error) {
                                   (*sent_ptr)[index].acked = ok;
                                   if (!ok) LogWarn("outbox publish failed", {{"error", error}});
                                 });
    if (!s.ok()) LogWarn("outbox produce failed", {{"error", s.message()}});
    return sent.size() < kRelayBatch;
  });
  if (sent.empty()) {
    pending_.Set(0);
    return {};
  }
  // Every message gets its answer within message.timeout.ms. While running, wait for all of
  // them; when stopping, not for long: whatever is unacknowledged stays in the outbox and is
  // sent after the restart, so an unreachable broker cannot hold up a shutdown.
  auto waited = std::chrono::steady_clock::now();
  while (!producer_.Flush(1000)) {
    if (!running_ && std::chrono::steady_clock::now() - waited > kShutdownFlush) break;
  }
  // Delete the acknowledged prefix; the first failure and everything after it is sent again
  // so that a member's events keep their order.
  size_t acked = 0;
  std::map<std::string, int64_t> per_topic;
  while (acked < sent.size() && sent[acked].acked) {
    if (!sent[acked].topic.empty()) ++per_topic[sent[acked].topic];
    ++acked;
  }
  if (acked > 0) {
    // Unsynced: a delete lost in a crash only republishes (consumers dedupe by event id), and
    // the relay must not wait behind the consumers' synced batches.
    store_.WriteUnsynced([&](StagedWrite& write) {
      for (size_t i = 0; i < acked; ++i) write.Delete(kOutboxCf, sent[i].key);
    });
  }
  for (const auto& [topic, n] : per_topic) {
    published_family_.Add({{"topic", topic}}).Increment(static_cast<double>(n));
  }
  if (acked < sent.size()) {
    failures_.Increment(static_cast<double>(sent.size() - acked));
    cursor_ = sent[acked].key;
  } else {
    cursor_ = sent.back().key + '\0';  // the smallest key after the last one sent
  }
  pending_.Set(static_cast<double>(sent.size() - acked));
  return {sent.size(), acked};
}

}  // namespace loyalty
