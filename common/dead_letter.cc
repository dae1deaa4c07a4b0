#include "common/dead_letter.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/key_codec.h"

namespace loyalty {

v1::internal::OutboxRecord DeadLetterRecord(const InputMessage& message, std::string_view kind,
                                            std::string_view reason) {
  v1::internal::OutboxRecord record;
  record.set_topic(message.topic + ".dlq");
  record.set_key(message.key);
  record.set_value(message.value);
  auto& headers = *record.mutable_headers();
  headers["reason"] = std::string(reason);
  headers["reason_kind"] = std::string(kind);
  headers["source_topic"] = message.topic;
  headers["source_partition"] = std::to_string(message.partition);
  headers["source_offset"] = std::to_string(message.offset);
  return record;
}

}  // namespace loyalty

namespace loyalty {

std::string OutboxDeadLetterKey(int64_t at_ms, std::string_view outbox_key) {
  std::string key(kOutboxDeadLetterPrefix);
  keys::AppendU64(key, static_cast<uint64_t>(at_ms));
  key.append(outbox_key);
  return key;
}

v1::internal::OutboxRecord OutboxDeadLetter(const v1::internal::OutboxRecord& record,
                                            std::string_view outbox_key, std::string_view reason,
                                            std::string_view error, int64_t at_ms) {
  v1::internal::OutboxRecord letter;
  letter.set_topic(record.topic());
  letter.set_key(record.key());
  letter.set_value(record.value().substr(0, kDeadLetterValuePrefix));
  auto& headers = *letter.mutable_headers();
  headers = record.headers();
  headers["dead_letter.reason"] = std::string(reason);
  headers["dead_letter.error"] = std::string(error);
  headers["dead_letter.at_ms"] = std::to_string(at_ms);
  headers["dead_letter.value_size"] = std::to_string(record.value().size());
  headers["dead_letter.outbox_key"] =
      outbox_key.size() == 8 ? std::to_string(keys::ReadU64(outbox_key)) : "";
  return letter;
}

StatusOr<std::vector<v1::internal::OutboxRecord>> ReadOutboxDeadLetters(const std::string& data_dir,
                                                                        size_t limit) {
  // A secondary instance needs a directory of its own for its info log.
  std::string secondary = (std::filesystem::temp_directory_path() / "loyalty-dl-XXXXXX").string();
  if (mkdtemp(secondary.data()) == nullptr) return Internal("cannot make a temporary directory");
  rocksdb::Options options;
  options.max_open_files = -1;  // required of a secondary
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {kOutboxCf, rocksdb::ColumnFamilyOptions()}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::OpenAsSecondary(options, data_dir, secondary, families, &handles, &raw);
  if (!s.ok()) {
    std::filesystem::remove_all(secondary);
    return Internal("cannot read the store at " + data_dir + ": " + s.ToString());
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::vector<v1::internal::OutboxRecord> letters;
  {
    rocksdb::Slice prefix(kOutboxDeadLetterPrefix.data(), kOutboxDeadLetterPrefix.size());
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[1]));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) && letters.size() < limit;
         it->Next()) {
      if (!letters.emplace_back().ParseFromArray(it->value().data(),
                                                 static_cast<int>(it->value().size()))) {
        letters.pop_back();
      }
    }
  }
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  db.reset();
  std::filesystem::remove_all(secondary);
  return letters;
}

}  // namespace loyalty
