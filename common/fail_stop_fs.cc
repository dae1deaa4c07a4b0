#include "common/fail_stop_fs.h"

#include <rocksdb/env.h>

#include "common/log.h"

namespace loyalty {
namespace {

using rocksdb::DataVerificationInfo;
using rocksdb::FileOptions;
using rocksdb::FSDirectory;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

using OnFailure = std::function<void(const std::string&)>;

// Passes s through, after the handler if s is an I/O error. A path that is not there is no
// disk fault (and RocksDB renames files that may not exist, such as an old LOG).
IOStatus Check(const OnFailure& on_failure, const char* op, const std::string& name, IOStatus s) {
  if (s.IsIOError() && !s.IsPathNotFound()) {
    std::string error = std::string(op) + " " + name + ": " + s.ToString();
    LogError("a write to the data disk failed", {{"error", error}});
    on_failure(error);
  }
  return s;
}

// Allocate and RangeSync are hints whose failure RocksDB ignores or a later Sync reports (and
// fallocate is unsupported on some file systems), so they pass through unchecked.
class FailStopWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FailStopWritableFile(std::unique_ptr<FSWritableFile> file, std::string name, OnFailure on_failure)
      : FSWritableFileOwnerWrapper(std::move(file)),
        name_(std::move(name)),
        on_failure_(std::move(on_failure)) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    return Check(on_failure_, "append", name_, target()->Append(data, options, dbg));
  }
  IOStatus Append(const Slice& data, const IOOptions& options, const DataVerificationInfo& info,
                  IODebugContext* dbg) override {
    return Check(on_failure_, "append", name_, target()->Append(data, options, info, dbg));
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    return Check(on_failure_, "append", name_,
                 target()->PositionedAppend(data, offset, options, dbg));
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const DataVerificationInfo& info, IODebugContext* dbg) override {
    return Check(on_failure_, "append", name_,
                 target()->PositionedAppend(data, offset, options, info, dbg));
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options, IODebugContext* dbg) override {
    return Check(on_failure_, "truncate", name_, target()->Truncate(size, options, dbg));
  }
  IOStatus Close(const IOOptions& options, IODebugContext* dbg) override {
    return Check(on_failure_, "close", name_, target()->Close(options, dbg));
  }
  IOStatus Flush(const IOOptions& options, IODebugContext* dbg) override {
    return Check(on_failure_, "flush", name_, target()->Flush(options, dbg));
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    return Check(on_failure_, "sync", name_, target()->Sync(options, dbg));
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return Check(on_failure_, "fsync", name_, target()->Fsync(options, dbg));
  }

 private:
  std::string name_;
  OnFailure on_failure_;  // a copy: RocksDB may keep a file (the info LOG) past its FS
};

class FailStopDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  FailStopDirectory(std::unique_ptr<FSDirectory> dir, std::string name, OnFailure on_failure)
      : FSDirectoryWrapper(std::move(dir)),
        name_(std::move(name)),
        on_failure_(std::move(on_failure)) {}

  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return Check(on_failure_, "fsync", name_, FSDirectoryWrapper::Fsync(options, dbg));
  }
  IOStatus FsyncWithDirOptions(const IOOptions& options, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& dir_options) override {
    return Check(on_failure_, "fsync", name_,
                 FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options));
  }

 private:
  std::string name_;
  OnFailure on_failure_;
};

class FailStopFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FailStopFileSystem(std::shared_ptr<rocksdb::FileSystem> base, OnFailure on_failure)
      : FileSystemWrapper(base), on_failure_(std::move(on_failure)) {}

  static const char* kClassName() { return "LoyaltyFailStopFileSystem"; }
  const char* Name() const override { return kClassName(); }

  IOStatus NewWritableFile(const std::string& name, const FileOptions& options,
                           std::unique_ptr<FSWritableFile>* result, IODebugContext* dbg) override {
    return Wrap("create", name, target()->NewWritableFile(name, options, result, dbg), result);
  }
  IOStatus ReopenWritableFile(const std::string& name, const FileOptions& options,
                              std::unique_ptr<FSWritableFile>* result,
                              IODebugContext* dbg) override {
    return Wrap("reopen", name, target()->ReopenWritableFile(name, options, result, dbg), result);
  }
  IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                             const FileOptions& options, std::unique_ptr<FSWritableFile>* result,
                             IODebugContext* dbg) override {
    return Wrap("reuse", name, target()->ReuseWritableFile(name, old_name, options, result, dbg),
                result);
  }
  IOStatus NewDirectory(const std::string& name, const IOOptions& options,
                        std::unique_ptr<FSDirectory>* result, IODebugContext* dbg) override {
    IOStatus s = target()->NewDirectory(name, options, result, dbg);
    if (s.ok()) result->reset(new FailStopDirectory(std::move(*result), name, on_failure_));
    return s;
  }
  IOStatus RenameFile(const std::string& from, const std::string& to, const IOOptions& options,
                      IODebugContext* dbg) override {
    return Check(on_failure_, "rename", from + " to " + to,
                 target()->RenameFile(from, to, options, dbg));
  }

 private:
  IOStatus Wrap(const char* op, const std::string& name, IOStatus s,
                std::unique_ptr<FSWritableFile>* result) {
    if (s.ok()) {
      result->reset(new FailStopWritableFile(std::move(*result), name, on_failure_));
      return s;
    }
    return Check(on_failure_, op, name, std::move(s));
  }

  OnFailure on_failure_;
};

// RocksDB opens its info LOG through Env::NewLogger, which the default Env hands to the POSIX
// file system, past any wrapper of it; this Env opens it through its own file system instead.
class FailStopEnv : public rocksdb::EnvWrapper {
 public:
  explicit FailStopEnv(std::unique_ptr<rocksdb::Env> composite)
      : EnvWrapper(std::move(composite)) {}

  static const char* kClassName() { return "LoyaltyFailStopEnv"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::Status NewLogger(const std::string& name,
                            std::shared_ptr<rocksdb::Logger>* result) override {
    return rocksdb::NewEnvLogger(name, this, result);
  }
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewFailStopEnv(
    std::shared_ptr<rocksdb::FileSystem> base,
    std::function<void(const std::string& error)> on_failure) {
  return std::make_unique<FailStopEnv>(
      rocksdb::NewCompositeEnv(NewFailStopFileSystem(std::move(base), std::move(on_failure))));
}

std::shared_ptr<rocksdb::FileSystem> NewFailStopFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base,
    std::function<void(const std::string& error)> on_failure) {
  return std::make_shared<FailStopFileSystem>(std::move(base), std::move(on_failure));
}

}  // namespace loyalty
