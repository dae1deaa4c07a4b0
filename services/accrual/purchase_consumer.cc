#include "services/accrual/purchase_consumer.h"

#include "services/accrual/input_decoder.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace loyalty::accrual {
namespace {

// A staged batch waiting to be made durable, with what its metrics need.
struct StagedJob {
  AccrualCore::StagedBatch staged;
  std::map<std::string, int64_t> per_topic;
  std::chrono::steady_clock::time_point start;
};

// Makes staged batches durable on its own thread, one at a time, in the order given.
class Finisher {
 public:
  explicit Finisher(std::function<void(const StagedJob&)> finish)
      : finish_(std::move(finish)), thread_([this] { Loop(); }) {}
  ~Finisher() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();  // finishes what was handed over first
  }

  // Hands over the next batch; waits while the one before it is still queued.
  void Submit(StagedJob job) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !next_; });
    next_ = std::move(job);
    cv_.notify_all();
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return next_ || stopping_; });
      if (!next_) return;
      StagedJob job = std::move(*next_);
      next_.reset();
      cv_.notify_all();
      lock.unlock();
      finish_(job);
      lock.lock();
    }
  }

  std::function<void(const StagedJob&)> finish_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<StagedJob> next_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

Status PurchaseConsumer::Assign() {
  return consumer_.AssignAll({kPurchasesTopic, kRefundsTopic, kActivitiesTopic},
                             core_.StoredOffsets());
}

void PurchaseConsumer::Run(const std::atomic<bool>& running) {
  // Pipelined: while the finisher writes batch k (memtables, WAL, fsync) this thread reads
  // and applies batch k+1, so the two halves use both cores. It is safe because every
  // record the core reads back while applying (purchases, refunds, parked refunds,
  // activity dedupe) is a visible write, seen before it is durable; nothing leaves the
  // service (events, offsets, answers) before its batch is durable, and a later batch is
  // never durable without the earlier ones.
  Finisher finisher([&](const StagedJob& job) {
    core_.FinishBatch(job.staged);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - job.start).count();
    metrics_.ObserveBatch(job.per_topic, job.staged.result, seconds);
  });
  ConsumeInBatches(
      consumer_, options_, running,
      [&](const std::vector<KafkaMessage>& batch) {
        StagedJob job;
        job.start = std::chrono::steady_clock::now();
        for (const auto& m : batch) ++job.per_topic[m.topic];
        job.staged = core_.StageBatch(batch, DecodeCommand);
        finisher.Submit(std::move(job));
      },
      [&] { metrics_.SetLag(consumer_.Lag(core_.StoredOffsets())); });
}

}  // namespace loyalty::accrual
