// The commands that read or change a service's RocksDB directly (no gRPC): the outbox's dead
// letters, read from a RocksDB secondary instance while the service runs, and the stored
// offset of a consumer partition stopped by an offset out of range, written while the service
// is stopped (RocksDB's lock refuses it otherwise). docs/operations.md tells when to use them.
#include <cstdlib>
#include <iostream>
#include <string>

#include "common/dead_letter.h"
#include "common/input.h"
#include "common/kafka.h"
#include "tools/loyaltyctl/commands.h"
#include "tools/loyaltyctl/format.h"

namespace loyalty::ctl {
namespace {

// The column family where every consuming service keeps its next offsets (OffsetKey).
constexpr char kOffsetsCf[] = "offsets";

// --data-dir, or the service's default data directory (./data/<service>, relative to the
// working directory the service was started in).
std::string DataDir(const Args& args) {
  if (args.Has("data-dir")) return args.Required("data-dir");
  if (args.Has("service")) return "./data/" + args.Required("service");
  throw UsageError("--data-dir=PATH (the service's data_dir) or --service=NAME is required");
}

}  // namespace

void RunOutboxDeadLetters(Ctl& ctl, const Args& args) {
  std::string dir = DataDir(args);
  auto limit = static_cast<size_t>(args.GetInt("limit", 100, 1, 1'000'000));
  auto letters = ReadOutboxDeadLetters(dir, limit);
  if (!letters.ok()) throw CommandFailed(letters.status().message());
  for (const auto& letter : *letters) {
    if (ctl.json()) {
      ctl.PrintJson(letter);
      continue;
    }
    const auto& h = letter.headers();
    auto header = [&](const std::string& name) {
      auto found = h.find(name);
      return found == h.end() ? std::string("-") : found->second;
    };
    Fields fields;
    fields.Add("dead letter", IsoUtc(std::atoll(header("dead_letter.at_ms").c_str())))
        .Add("topic", letter.topic())
        .Add("key", letter.key())
        .Add("reason", header("dead_letter.reason"))
        .Add("error", header("dead_letter.error"))
        .Add("size", header("dead_letter.value_size") + " bytes (first " +
                         std::to_string(letter.value().size()) + " kept)")
        .Add("outbox key", header("dead_letter.outbox_key"));
    for (const auto& [name, value] : h) {
      if (name.rfind("dead_letter.", 0) != 0) fields.Add("header " + name, value);
    }
    fields.Print(std::cout);
    std::cout << "\n";
  }
  if (!ctl.json()) {
    std::cout << letters->size() << " dead letter" << (letters->size() == 1 ? "" : "s") << "\n";
  }
}

void RunConsumerResume(Ctl& ctl, const Args& args) {
  std::string dir = DataDir(args);
  TopicPartition tp{args.Required("topic"),
                    static_cast<int32_t>(args.GetInt("partition", -1, 0, 1'000'000))};
  if (tp.second < 0) throw UsageError("--partition=P is required");
  std::string from = args.Required("offset");
  auto consumer = KafkaConsumer::Create(ctl.KafkaSettings(), "loyaltyctl-resume");
  if (!consumer.ok()) throw CommandFailed("Kafka consumer: " + consumer.status().message());
  auto offset = ResolveResumeOffset(**consumer, tp, from);
  if (!offset.ok()) throw CommandFailed(offset.status().message());
  int64_t previous = -1;
  if (Status s = StoreConsumerOffset(dir, kOffsetsCf, tp, *offset, &previous); !s.ok()) {
    throw CommandFailed(s.message());
  }
  Fields fields;
  fields.Add("partition", tp.first + "/" + std::to_string(tp.second))
      .Add("stored offset", previous < 0 ? "none" : std::to_string(previous))
      .Add("resumes at", std::to_string(*offset) + " (" + from + ")");
  fields.Print(std::cout);
  std::cout << "start the service to read the partition from there\n";
}

}  // namespace loyalty::ctl
