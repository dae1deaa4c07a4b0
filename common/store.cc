#include "common/store.h"

#include <sys/statvfs.h>

#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>

#include "common/fail_stop_fs.h"
#include "common/log.h"

namespace loyalty {

void StagedOps::Add(rocksdb::ColumnFamilyHandle* cf, bool erase, std::string_view key,
                    std::string_view value) {
  auto at = static_cast<uint32_t>(bytes.size());
  bytes.append(key);
  bytes.append(value);
  ops.push_back({cf, erase, at, static_cast<uint32_t>(key.size()),
                 at + static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size())});
}

void StagedOps::BuildSortedBatch(rocksdb::WriteBatch& batch) {
  auto key = [this](const Op& op) {
    return std::string_view(bytes).substr(op.key_at, op.key_size);
  };
  std::stable_sort(ops.begin(), ops.end(), [&](const Op& a, const Op& b) {
    if (a.cf != b.cf) return a.cf->GetID() < b.cf->GetID();
    return key(a) < key(b);
  });
  for (const Op& op : ops) {
    rocksdb::Slice k(bytes.data() + op.key_at, op.key_size);
    if (op.erase) {
      batch.Delete(op.cf, k);
    } else {
      batch.Put(op.cf, k, rocksdb::Slice(bytes.data() + op.value_at, op.value_size));
    }
  }
}

void StagedWrite::Put(std::string_view cf, std::string_view key, std::string_view value) {
  ops_.Add(store_.Handle(cf), /*erase=*/false, key, value);
}

void StagedWrite::Delete(std::string_view cf, std::string_view key) {
  ops_.Add(store_.Handle(cf), /*erase=*/true, key, {});
}

void StagedWrite::PutVisible(std::string_view cf, std::string_view key, std::string_view value) {
  Put(cf, key, value);
  if (track_visible_)
    store_.visible_open_[{std::string(cf), std::string(key)}] = std::string(value);
}

void StagedWrite::DeleteVisible(std::string_view cf, std::string_view key) {
  Delete(cf, key);
  if (track_visible_) store_.visible_open_[{std::string(cf), std::string(key)}] = std::nullopt;
}

StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                             const std::vector<std::string>& column_families,
                                             StoreOptions options) {
  std::unique_ptr<Store> store(new Store());
  rocksdb::Options db_options;
  if (options.on_write_failure) {
    // The first failed write stops here, before RocksDB can trip over its own failed writer
    // (common/fail_stop_fs.h).
    store->env_ = NewFailStopEnv(rocksdb::FileSystem::Default(), options.on_write_failure);
    db_options.env = store->env_.get();
  }
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_background_jobs = 2;

  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.memtables_mb << 20);

  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  store->block_cache_ = rocksdb::NewLRUCache(options.block_cache_mb << 20);
  table.block_cache = store->block_cache_;
  // Indexes and filters in the cache, or they grow with the keys outside any bound; those of
  // L0 (the newest, most read) pinned there, the rest kept with high priority. Partitioned
  // into 4 KiB blocks, as RocksDB's wiki advises for this: a whole filter of an SST with
  // millions of keys is megabytes, larger than a cache shard, and was read from the file
  // and checksummed on every Get (enrolment at 2M members ran at a tenth of its speed).
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.pin_top_level_index_and_filter = true;
  rocksdb::ColumnFamilyOptions cf_options(db_options);
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // One insert hint for the whole column family: with the batch sorted by key, each
  // memtable insert starts from where the previous one ended (a plain insert starts from
  // the top unless the key is the very next one).
  cf_options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(0));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  for (const auto& name : column_families) descriptors.emplace_back(name, cf_options);

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(rocksdb::DBOptions(db_options), path, descriptors, &store->handles_, &raw);
  if (!s.ok()) return Internal("opening RocksDB at " + path + ": " + s.ToString());
  store->db_.reset(raw);
  for (size_t i = 0; i < descriptors.size(); ++i) {
    store->by_name_[descriptors[i].name] = store->handles_[i];
  }
  store->write_options_.sync = options.sync;
  store->on_write_failure_ = std::move(options.on_write_failure);
  store->path_ = path;
  store->min_free_bytes_ = options.min_free_bytes;
  return store;
}

rocksdb::Status Store::CheckFreeSpace() const {
  if (min_free_bytes_ <= 0) return rocksdb::Status::OK();
  struct statvfs fs {};
  if (::statvfs(path_.c_str(), &fs) != 0) return rocksdb::Status::OK();  // RocksDB will tell
  const int64_t free_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
  if (free_bytes >= min_free_bytes_) return rocksdb::Status::OK();
  return rocksdb::Status::NoSpace(std::to_string(free_bytes) + " bytes free in " + path_ +
                                  ", below store.disk_min_free_bytes");
}

void Store::WriteFailed(const rocksdb::Status& status) const {
  LogError("RocksDB write failed; stopping so that a restart recovers from disk",
           {{"error", status.ToString()}});
  if (on_write_failure_) on_write_failure_(status.ToString());
  std::abort();
}

Store::~Store() {
  uint64_t staged;
  {
    std::lock_guard lock(group_mu_);
    staged = staged_;
  }
  WaitDurable(staged);  // what is staged lands, and its callbacks run
  {
    std::lock_guard lock(group_mu_);
    stopping_ = true;
  }
  syncer_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  if (db_) db_->Close();
}

rocksdb::ColumnFamilyHandle* Store::Handle(std::string_view cf) const {
  auto it = by_name_.find(cf);
  if (it == by_name_.end()) {
    LogError("unknown column family", {{"cf", std::string(cf)}});
    std::abort();
  }
  return it->second;
}

const std::optional<std::string>* Store::VisibleChange(std::string_view cf,
                                                       std::string_view key) const {
  if (visible_open_.empty() && visible_writing_.empty()) return nullptr;
  std::pair<std::string, std::string> k{std::string(cf), std::string(key)};
  // The open group is newer than the one being written.
  for (const VisibleChanges* changes : {&visible_open_, &visible_writing_}) {
    if (auto it = changes->find(k); it != changes->end()) return &it->second;
  }
  return nullptr;
}

bool Store::Get(std::string_view cf, std::string_view key, std::string* value) const {
  {
    std::lock_guard lock(group_mu_);
    if (const std::optional<std::string>* change = VisibleChange(cf, key)) {
      if (!*change) return false;
      *value = **change;
      return true;
    }
  }
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), Handle(cf), rocksdb::Slice(key.data(), key.size()), value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) {
    LogError("RocksDB read failed", {{"error", s.ToString()}});
    std::abort();
  }
  return true;
}

std::vector<std::optional<std::string>> Store::MultiGet(
    std::string_view cf, const std::vector<std::string>& keys) const {
  std::vector<std::optional<std::string>> values(keys.size());
  std::vector<size_t> from_db;  // indexes of the keys no visible change answers
  {
    std::lock_guard lock(group_mu_);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (const std::optional<std::string>* change = VisibleChange(cf, keys[i])) {
        values[i] = *change;
      } else {
        from_db.push_back(i);
      }
    }
  }
  if (from_db.empty()) return values;
  std::vector<rocksdb::Slice> slices;
  slices.reserve(from_db.size());
  for (size_t i : from_db) slices.emplace_back(keys[i]);
  std::vector<rocksdb::PinnableSlice> found(from_db.size());
  std::vector<rocksdb::Status> statuses(from_db.size());
  db_->MultiGet(rocksdb::ReadOptions(), Handle(cf), slices.size(), slices.data(), found.data(),
                statuses.data());
  for (size_t j = 0; j < from_db.size(); ++j) {
    if (statuses[j].IsNotFound()) continue;
    if (!statuses[j].ok()) {
      LogError("RocksDB read failed", {{"error", statuses[j].ToString()}});
      std::abort();
    }
    values[from_db[j]] = found[j].ToString();
  }
  return values;
}

void Store::Scan(std::string_view cf, std::string_view from, std::string_view to,
                 const std::function<bool(std::string_view, std::string_view)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Handle(cf)));
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (!to.empty() && key >= to) break;
    if (!visit(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
}

void Store::ScanBackward(
    std::string_view cf, std::string_view prefix, std::string_view before,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Handle(cf)));
  if (before.empty()) {
    // Seek to the first key after every key with this prefix, then step back.
    std::string upper(prefix);
    while (!upper.empty() && static_cast<uint8_t>(upper.back()) == 0xff) upper.pop_back();
    if (upper.empty()) {
      it->SeekToLast();
    } else {
      upper.back() = static_cast<char>(static_cast<uint8_t>(upper.back()) + 1);
      it->SeekForPrev(upper);
      if (it->Valid() && it->key() == rocksdb::Slice(upper)) it->Prev();
    }
  } else {
    it->SeekForPrev(rocksdb::Slice(before.data(), before.size()));
    if (it->Valid() && it->key() == rocksdb::Slice(before.data(), before.size())) it->Prev();
  }
  for (; it->Valid(); it->Prev()) {
    std::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!visit(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
}

uint64_t Store::Stage(const std::function<void(StagedWrite&)>& changes) {
  std::lock_guard lock(group_mu_);
  StagedWrite staged(*this, open_group_, /*track_visible=*/true);
  changes(staged);
  return ++staged_;
}

void Store::WriteUnsynced(const std::function<void(StagedWrite&)>& changes) {
  StagedOps ops;
  StagedWrite staged(*this, ops, /*track_visible=*/false);
  changes(staged);
  rocksdb::WriteBatch batch;
  ops.BuildSortedBatch(batch);
  rocksdb::WriteOptions options;
  options.sync = false;
  rocksdb::Status s = CheckFreeSpace();
  if (s.ok()) s = db_->Write(options, &batch);
  if (!s.ok()) WriteFailed(s);
}

void Store::WaitDurable(uint64_t ticket) {
  std::vector<std::function<void()>> due;
  {
    std::unique_lock lock(group_mu_);
    while (durable_ < ticket) {
      if (writing_) {
        group_cv_.wait(lock);
        continue;
      }
      auto more = WriteOpenGroups(lock);
      due.insert(due.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
    }
  }
  for (auto& done : due) done();
}

uint64_t Store::durable_ticket() const {
  std::lock_guard lock(group_mu_);
  return durable_;
}

void Store::WhenDurable(uint64_t ticket, std::function<void()> done) {
  {
    std::lock_guard lock(group_mu_);
    if (durable_ < ticket) {
      when_durable_.emplace(ticket, std::move(done));
      if (!syncer_.joinable()) syncer_ = std::thread([this] { SyncerLoop(); });
      if (!writing_) syncer_cv_.notify_one();
      return;
    }
  }
  done();
}

void Store::SyncerLoop() {
  std::unique_lock lock(group_mu_);
  for (;;) {
    syncer_cv_.wait(lock, [&] {
      return stopping_ ||
             (!writing_ && !when_durable_.empty() && durable_ < when_durable_.rbegin()->first);
    });
    if (stopping_) return;
    auto due = WriteOpenGroups(lock);
    lock.unlock();
    for (auto& done : due) done();
    lock.lock();
  }
}

std::vector<std::function<void()>> Store::WriteOpenGroups(std::unique_lock<std::mutex>& lock) {
  writing_ = true;
  StagedOps ops;
  std::swap(ops, open_group_);
  visible_writing_.swap(visible_open_);
  uint64_t upto = staged_;
  lock.unlock();
  rocksdb::WriteBatch batch;
  ops.BuildSortedBatch(batch);
  rocksdb::Status s = rocksdb::Status::OK();
  if (batch.Count() > 0) {
    s = CheckFreeSpace();
    if (s.ok()) s = db_->Write(write_options_, &batch);
  }
  if (!s.ok()) WriteFailed(s);
  lock.lock();
  visible_writing_.clear();
  durable_ = upto;
  writing_ = false;
  group_cv_.notify_all();
  std::vector<std::function<void()>> due;
  auto end = when_durable_.upper_bound(durable_);
  for (auto it = when_durable_.begin(); it != end; ++it) due.push_back(std::move(it->second));
  when_durable_.erase(when_durable_.begin(), end);
  // Callbacks still waiting for later groups: the syncer writes those next.
  if (!when_durable_.empty()) syncer_cv_.notify_one();
  return due;
}

uint64_t Store::GetIntProperty(std::string_view property) const {
  uint64_t total = 0;
  for (auto* h : handles_) {
    uint64_t v = 0;
    if (db_->GetIntProperty(h, rocksdb::Slice(property.data(), property.size()), &v)) total += v;
  }
  return total;
}

}  // namespace loyalty
