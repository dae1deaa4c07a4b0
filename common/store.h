// The RocksDB store of one service: named column families, reads, ordered scans, and one
// write path with group commit. Callers stage their changes while they hold their own lock
// (so the order of staged groups is the order of the logic), release it, and wait until the
// group is durable (WAL synced) before they answer anyone. Concurrent callers share one
// synced write.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"

namespace loyalty {

struct StoreOptions {
  bool sync = true;  // fsync the WAL on every group; off only in benchmarks of the floor
  // RocksDB's memory, bounded whatever the number of keys: the block cache holds data
  // blocks and the SSTs' indexes and bloom filters (so these do not grow with the data
  // outside it); the memtables of all column families together stay within memtables_mb
  // (a flush starts when they reach it).
  size_t block_cache_mb = 128;
  size_t memtables_mb = 128;
  // Called instead of aborting when a write fails (a full disk, an I/O error), with the
  // error; it must not return (the service restarts in place: common/disk_guard.h). The
  // callers of the failed group stay blocked: their changes are not durable. When set, it is
  // also called at the first failed file write or sync inside RocksDB, on whatever thread
  // met it, before RocksDB handles the error (common/fail_stop_fs.h).
  std::function<void(const std::string& error)> on_write_failure;
  // A write is failed before it reaches RocksDB when the file system has less free: a WAL
  // write that meets ENOSPC leaves RocksDB's writer in a state that Debian's build (with
  // assertions) aborts on, so a full disk is caught here first. 0: no check.
  int64_t min_free_bytes = 0;
};

class Store;

// Changes kept in arrival order until they are written. The writer sorts them by key first:
// RocksDB's memtable starts each insert's skip-list search where the previous one ended, so
// inserts in key order cost a fraction of inserts in random order (docs/benchmarks.md).
struct StagedOps {
  struct Op {
    rocksdb::ColumnFamilyHandle* cf;
    bool erase;
    uint32_t key_at, key_size, value_at, value_size;
  };
  std::string bytes;  // keys and values, back to back
  std::vector<Op> ops;

  void Add(rocksdb::ColumnFamilyHandle* cf, bool erase, std::string_view key,
           std::string_view value);
  // A batch of the ops, sorted by column family and key; of ops on the same key the later
  // stays later, so it still wins.
  void BuildSortedBatch(rocksdb::WriteBatch& batch);
};

// The changes of one caller, applied atomically with the rest of its group.
class StagedWrite {
 public:
  void Put(std::string_view cf, std::string_view key, std::string_view value);
  void Delete(std::string_view cf, std::string_view key);
  // Like Put, and Store::Get sees the value before the group is durable. For records that a
  // concurrent caller must find at once (idempotency keys); ordinary puts skip this cost.
  void PutVisible(std::string_view cf, std::string_view key, std::string_view value);
  // Like Delete, and Store::Get stops finding the key before the group is durable.
  void DeleteVisible(std::string_view cf, std::string_view key);

 private:
  friend class Store;
  StagedWrite(Store& store, StagedOps& ops, bool track_visible)
      : store_(store), ops_(ops), track_visible_(track_visible) {}
  Store& store_;
  StagedOps& ops_;
  bool track_visible_;
};

class Store {
 public:
  static StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                               const std::vector<std::string>& column_families,
                                               StoreOptions options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  bool Get(std::string_view cf, std::string_view key, std::string* value) const;
  // Get of many keys at once (RocksDB's MultiGet: one pass over each file's index and filter
  // for all of them); nullopt where a key is absent.
  std::vector<std::optional<std::string>> MultiGet(std::string_view cf,
                                                   const std::vector<std::string>& keys) const;

  // Visits keys in [from, to) in order (to empty: to the end of the column family) until
  // visit returns false.
  void Scan(std::string_view cf, std::string_view from, std::string_view to,
            const std::function<bool(std::string_view key, std::string_view value)>& visit) const;
  // Visits keys below `before` (empty: from the last key) in reverse order, while they
  // start with prefix.
  void ScanBackward(
      std::string_view cf, std::string_view prefix, std::string_view before,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

  // Adds changes to the open group and returns its ticket. Never blocks on disk.
  uint64_t Stage(const std::function<void(StagedWrite&)>& changes);
  // Blocks until the group of ticket is durable. A failed write ends the process (or calls
  // StoreOptions::on_write_failure): memory would no longer match disk, and a restart
  // recovers from the disk.
  void WaitDurable(uint64_t ticket);
  void Commit(const std::function<void(StagedWrite&)>& changes) { WaitDurable(Stage(changes)); }
  // Runs done once the group of ticket is durable: at once if it is, else on the thread that
  // completes that write (a WaitDurable caller or the store's own syncer thread). For callers
  // that must not block, such as asynchronous gRPC handlers; done must not block either.
  void WhenDurable(uint64_t ticket, std::function<void()> done);
  // The newest ticket whose group is durable, and so what Get reads.
  uint64_t durable_ticket() const;
  // Writes at once without waiting for the WAL sync, outside the group order: only for
  // changes whose loss in a crash is harmless (deleting published outbox records: a lost
  // delete republishes, and consumers dedupe). The next synced group makes it durable.
  void WriteUnsynced(const std::function<void(StagedWrite&)>& changes);

  // A property summed over the column families.
  uint64_t GetIntProperty(std::string_view property) const;
  // The shared block cache's use and capacity, in bytes.
  size_t block_cache_usage() const { return block_cache_->GetUsage(); }
  size_t block_cache_capacity() const { return block_cache_->GetCapacity(); }
  rocksdb::DB* db() { return db_.get(); }

 private:
  Store() = default;
  rocksdb::ColumnFamilyHandle* Handle(std::string_view cf) const;
  // The newest visible change of key not yet in RocksDB (a value, or nullopt for a delete),
  // or nullptr if none; with group_mu_ held.
  const std::optional<std::string>* VisibleChange(std::string_view cf, std::string_view key) const;
  // Writes every group staged so far in one synced write, with group_mu_ held on entry and
  // exit (released during the write); returns the callbacks that became due.
  std::vector<std::function<void()>> WriteOpenGroups(std::unique_lock<std::mutex>& lock);
  void SyncerLoop();
  [[noreturn]] void WriteFailed(const rocksdb::Status& status) const;
  friend class StagedWrite;

  std::unique_ptr<rocksdb::Env> env_;  // with on_write_failure; declared first, freed last
  std::unique_ptr<rocksdb::DB> db_;
  std::shared_ptr<rocksdb::Cache> block_cache_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> by_name_;
  rocksdb::WriteOptions write_options_;
  std::function<void(const std::string&)> on_write_failure_;
  std::string path_;
  int64_t min_free_bytes_ = 0;
  // OK, or NoSpace when the file system has less than min_free_bytes_ free.
  rocksdb::Status CheckFreeSpace() const;

  // Group commit state: every field from here to the end is guarded by group_mu_.
  mutable std::mutex group_mu_;
  std::condition_variable group_cv_;
  StagedOps open_group_;
  // Visible changes not yet in RocksDB: a value, or nullopt for a delete.
  using VisibleChanges = std::map<std::pair<std::string, std::string>, std::optional<std::string>>;
  VisibleChanges visible_open_;
  VisibleChanges visible_writing_;
  uint64_t staged_ = 0;
  uint64_t durable_ = 0;
  bool writing_ = false;
  // WhenDurable callbacks by ticket, and the thread that writes for them when no
  // WaitDurable caller does (started by the first WhenDurable).
  std::multimap<uint64_t, std::function<void()>> when_durable_;
  std::condition_variable syncer_cv_;
  std::thread syncer_;
  bool stopping_ = false;
};

}  // namespace loyalty
