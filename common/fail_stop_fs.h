// The store's RocksDB file system: the first write or sync that fails with an I/O error (EIO,
// ENOSPC, a read-only remount) goes to a handler before RocksDB itself sees the error.
//
// Why: Debian's RocksDB is built with assertions, and a WritableFileWriter that saw an error
// asserts on its next append. The info LOG is such a writer on the same disk: when a WAL write
// fails, RocksDB's error handler logs the background error to LOG, whose own write failed just
// before, and the process aborts inside RocksDB (seen in disk_eio_test, every run); so does a
// LOG write that fails while the store opens. Stopping at the first failed call, LOG included,
// leaves no RocksDB code a failed writer to touch again.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <functional>
#include <memory>
#include <string>

namespace loyalty {

// Wraps base so that a failed Append, PositionedAppend, Flush, Sync, Fsync, Truncate or Close
// of a writable file, a failed creation of one, a failed directory fsync or a failed rename
// calls on_failure with what failed and why. on_failure should not return (the service
// restarts in place: common/disk_guard.h); if it does, the error goes on to RocksDB.
// Only I/O errors count: NotSupported and the like are RocksDB's to handle.
// The Env to open the store with: Env::Default() on base wrapped as above, with RocksDB's
// info LOG written through the wrapped file system too (the default Env opens it directly).
std::unique_ptr<rocksdb::Env> NewFailStopEnv(
    std::shared_ptr<rocksdb::FileSystem> base,
    std::function<void(const std::string& error)> on_failure);

std::shared_ptr<rocksdb::FileSystem> NewFailStopFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base,
    std::function<void(const std::string& error)> on_failure);

}  // namespace loyalty
