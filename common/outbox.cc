#include "common/outbox.h"

#include "common/key_codec.h"

namespace loyalty {

Outbox::Outbox(Store& store) {
  uint64_t last = 0;
  store.ScanBackward(kOutboxCf, "", kOutboxDeadLetterPrefix,
                     [&](std::string_view key, std::string_view) {
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

}  // namespace loyalty
