#include "common/outbox_relay.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "common/dead_letter.h"
#include "common/key_codec.h"
#include "common/log.h"

namespace loyalty {
namespace {
// Messages handed to the producer and not yet acknowledged, at most.
constexpr size_t kMaxInFlight = 20000;
constexpr auto kShutdownFlush = std::chrono::seconds(5);

template <typename Entry>
void Settle(Entry& entry, const DeliveryResult& result) {
  using State = decltype(entry.state);
  if (result.delivered) {
    entry.state = State::kAcked;
  } else if (result.permanent) {
    entry.state = State::kRefused;
    entry.reason = result.reason;
    entry.error = result.error;
  } else {
    entry.state = State::kFailed;
  }
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

OutboxRelay::OutboxRelay(Store& store, const Outbox& outbox, KafkaProducer& producer,
                         prometheus::Registry& registry)
    : store_(store),
      outbox_(outbox),
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
      dead_letters_(prometheus::BuildCounter()
                        .Name("outbox_dead_letters_total")
                        .Help("Outbox messages refused for good (too large, invalid) and moved "
                              "to the dead letters instead of sent, by reason")
                        .Register(registry)),
      pending_(prometheus::BuildGauge()
                   .Name("outbox_pending")
                   .Help("Messages in the outbox the broker has not acknowledged yet")
                   .Register(registry)
                   .Add({})) {
  // The usual reasons exist at 0, so that the alert sees the first one as an increase.
  for (const char* reason : {"msg_size_too_large", "invalid_record"}) {
    dead_letters_.Add({{"reason", reason}});
  }
}

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
  store_.Scan(kOutboxCf, "", kOutboxDeadLetterPrefix, [&](std::string_view, std::string_view) {
    ++count;
    return true;
  });
  return count;
}

void OutboxRelay::Run() {
  // Pipelined: new records are produced while earlier ones wait for their acknowledgement,
  // up to kMaxInFlight, and the acknowledged prefix is deleted as answers arrive.
  int backoff_ms = 0;
  while (running_) {
    size_t produced = ProduceMore();
    if (!window_->entries.empty()) producer_.Poll(produced > 0 ? 0 : 2);
    Retired retired = RetireAnswered();
    if (retired.failed) {
      backoff_ms = std::clamp(backoff_ms * 2, 50, 5000);
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [&] { return !running_.load(); });
      continue;
    }
    if (retired.acked > 0) backoff_ms = 0;
    if (produced > 0 || !window_->entries.empty()) continue;  // more may be waiting
    pending_.Set(static_cast<double>(Backlog()));
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return notified_; });
    notified_ = false;
  }
  // Last pass on shutdown so that committed events leave promptly. Whatever is not
  // acknowledged in time stays in the outbox and is sent after the restart, so an
  // unreachable broker cannot hold up a shutdown.
  ProduceMore();
  auto waited = std::chrono::steady_clock::now();
  while (!producer_.Flush(1000) && std::chrono::steady_clock::now() - waited < kShutdownFlush) {
  }
  RetireAnswered();
}

size_t OutboxRelay::ProduceMore() {
  std::deque<InFlight>& entries = window_->entries;
  if (entries.size() >= kMaxInFlight) return 0;
  size_t room = kMaxInFlight - entries.size();
  bool careful = !suspects_until_.empty() && cursor_ <= suspects_until_;
  if (careful) {
    if (!entries.empty()) return 0;  // one at a time
    room = 1;
  }
  size_t produced = 0;
  std::weak_ptr<Window> weak = window_;
  store_.Scan(
      kOutboxCf, cursor_, kOutboxDeadLetterPrefix,
      [&](std::string_view key, std::string_view value) {
        cursor_ = std::string(key) + '\0';  // the smallest key after this one
        loyalty::v1::internal::OutboxRecord record;
        if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          LogError("undecodable outbox record skipped", {{"key_size", std::to_string(key.size())}});
          entries.push_back({std::string(key), "", "", InFlight::State::kAcked, "", "", true});
          return ++produced < room;
        }
        KafkaHeaders headers(record.headers().begin(), record.headers().end());
        DeliveryResult refused;  // filled when the client refuses the record at once
        uint64_t sequence = window_->first + entries.size();
        entries.push_back({std::string(key), record.topic(), record.key(),
                           InFlight::State::kWaiting, "", "", careful});
        // The callback finds its entry by sequence number: the front moves as the acknowledged
        // prefix is retired, and a rewind after a failure empties the window.
        Status s = producer_.Produce(
            record.topic(), record.key(), record.value(), headers,
            [weak, sequence](const DeliveryResult& result) {
              if (!result.delivered && !result.permanent) {
                LogWarn("outbox publish failed", {{"error", result.error}});
              }
              auto window = weak.lock();
              if (!window || sequence < window->first ||
                  sequence - window->first >= window->entries.size()) {
                return;  // rewound past it, or the relay is gone: it is sent again
              }
              Settle(window->entries[sequence - window->first], result);
            },
            &refused);
        if (!s.ok()) {
          if (!refused.permanent) LogWarn("outbox produce failed", {{"error", s.message()}});
          refused.delivered = false;
          entries.back().alone = true;  // refused before it joined any batch
          Settle(entries.back(), refused);
        }
        return ++produced < room;
      });
  return produced;
}

uint64_t OutboxRelay::Backlog() const {
  uint64_t next = outbox_.NextKey();
  uint64_t oldest = next;  // nothing known to wait: none
  if (!window_->entries.empty()) {
    oldest = keys::ReadU64(window_->entries.front().key);
  } else if (cursor_.size() == 8) {  // rewound to a failed record
    oldest = keys::ReadU64(cursor_);
  } else if (cursor_.size() > 8) {  // just after the last record produced
    oldest = keys::ReadU64(cursor_) + 1;
  }
  return next > oldest ? next - oldest : 0;
}

void OutboxRelay::DeadLetter(const InFlight& entry,
                             std::vector<std::pair<std::string, std::string>>& letters) {
  std::string value;
  loyalty::v1::internal::OutboxRecord record;
  if (!store_.Get(kOutboxCf, entry.key, &value) ||
      !record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return;  // gone or undecodable: nothing to keep
  }
  int64_t now = NowMs();
  letters.emplace_back(
      OutboxDeadLetterKey(now, entry.key),
      OutboxDeadLetter(record, entry.key, entry.reason, entry.error, now).SerializeAsString());
  dead_letters_.Add({{"reason", entry.reason}}).Increment();
  LogError("outbox record refused for good: moved to the dead letters",
           {{"topic", record.topic()},
            {"key", record.key().substr(0, 64)},
            {"reason", entry.reason},
            {"error", entry.error},
            {"value_size", std::to_string(record.value().size())},
            {"outbox_key", std::to_string(keys::ReadU64(entry.key))}});
}

OutboxRelay::Retired OutboxRelay::RetireAnswered() {
  std::deque<InFlight>& entries = window_->entries;
  Retired retired;
  std::map<std::string, int64_t> per_topic;
  // A refusal of a record that shared its batch is sent again, alone, with the records
  // after it (the rewind below), to learn which one the broker refuses; unless a later
  // event of the same member is already published: sending it again would put it after
  // that one, so it is a dead letter at once (the ordering promise, docs/decisions.md).
  auto suspect = [](const InFlight& e) { return e.state == InFlight::State::kRefused && !e.alone; };
  if (std::any_of(entries.begin(), entries.end(), suspect)) {
    while (!producer_.Flush(1000) && running_) {  // every answer in, as for a rewind
    }
    std::set<std::pair<std::string, std::string>> published_later;  // topic, record key
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      std::pair<std::string, std::string> member{it->topic, it->record_key};
      if (suspect(*it)) {
        if (published_later.count(member) > 0) {
          it->alone = true;
        } else {
          it->state = InFlight::State::kFailed;
          suspects_until_ = std::max(suspects_until_, it->key);
        }
      } else if (it->state == InFlight::State::kAcked) {
        published_later.insert(std::move(member));
      }
    }
  }
  size_t answered = 0;
  std::vector<std::pair<std::string, std::string>> letters;  // key, value
  for (; answered < entries.size(); ++answered) {
    const InFlight& entry = entries[answered];
    if (entry.state == InFlight::State::kRefused) {
      DeadLetter(entry, letters);
    } else if (entry.state != InFlight::State::kAcked) {
      break;
    } else if (!entry.topic.empty()) {
      ++per_topic[entry.topic];
    }
  }
  if (answered > 0) {
    // Unsynced: a delete lost in a crash only republishes (consumers dedupe by event id), and
    // the relay must not wait behind the consumers' synced batches. A dead letter and the
    // delete of its record are one write: lost together, the record is refused again.
    store_.WriteUnsynced([&](StagedWrite& write) {
      for (const auto& [key, value] : letters) write.Put(kOutboxCf, key, value);
      for (size_t i = 0; i < answered; ++i) write.Delete(kOutboxCf, entries[i].key);
    });
    entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(answered));
    window_->first += answered;
  }
  size_t acked = answered;
  for (const auto& [topic, n] : per_topic) {
    published_family_.Add({{"topic", topic}}).Increment(static_cast<double>(n));
  }
  if (!entries.empty() && entries.front().state == InFlight::State::kFailed) {
    // Everything from the failed record on is sent again, in order, so that a member's
    // events keep their order. Let the answers still on their way arrive first, so that
    // none of them lands in the next window.
    retired.failed = true;
    while (!producer_.Flush(1000) && running_) {
    }
    failures_.Increment(static_cast<double>(entries.size()));
    cursor_ = entries.front().key;
    window_->first += entries.size();
    entries.clear();
  }
  if (!suspects_until_.empty()) {
    // Every suspect answered alone (keys are in order, and a rewind puts cursor_ back).
    const std::string& next = entries.empty() ? cursor_ : entries.front().key;
    if (next > suspects_until_) suspects_until_.clear();
  }
  pending_.Set(static_cast<double>(Backlog()));
  retired.acked = acked;
  return retired;
}

}  // namespace loyalty
