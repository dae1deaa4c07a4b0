#include "common/fail_stop_fs.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace loyalty {
namespace {

// A disk whose files with names ending in `suffix` fail their appends while fail is set.
class FailingFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit FailingFileSystem(std::string suffix)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), suffix_(std::move(suffix)) {}
  const char* Name() const override { return "FailingFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok() && name.size() >= suffix_.size() &&
        name.compare(name.size() - suffix_.size(), suffix_.size(), suffix_) == 0) {
      result->reset(new File(std::move(*result), fail));
    }
    return s;
  }

  std::atomic<bool> fail{false};

 private:
  std::string suffix_;
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> file, std::atomic<bool>& fail)
        : FSWritableFileOwnerWrapper(std::move(file)), fail_(fail) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (fail_) return rocksdb::IOStatus::IOError("injected", "Input/output error");
      return target()->Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (fail_) return rocksdb::IOStatus::IOError("injected", "Input/output error");
      return target()->Append(data, options, info, dbg);
    }

   private:
    std::atomic<bool>& fail_;
  };
};

// The WAL fails; the info LOG keeps working, so RocksDB's own error handling runs after.
TEST(FailStopFileSystemTest, TheFirstFailedWalWriteReachesTheHandlerBeforeRocksDbAnswers) {
  testing::TempDir dir;
  auto disk = std::make_shared<FailingFileSystem>(".log");
  std::vector<std::string> errors;
  auto env = NewFailStopEnv(disk, [&](const std::string& error) { errors.push_back(error); });
  rocksdb::Options options;
  options.create_if_missing = true;
  options.env = env.get();
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, dir.Sub("db"), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(db->Put(sync, "k", "v").ok());
  EXPECT_TRUE(errors.empty());

  disk->fail = true;
  rocksdb::Status s = db->Put(sync, "k", "w");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  // This handler returns, so the error went on to RocksDB; the service's handler execs.
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find(".log"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("injected"), std::string::npos) << errors[0];
  db.reset();
}

// RocksDB's info LOG goes through the wrapped file system too: a failed LOG write is a disk
// fault like any other. The handler does not return, as the service's does not (RocksDB would
// assert on the LOG's next line).
TEST(FailStopFileSystemTest, AFailedInfoLogWriteReachesTheHandler) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  testing::TempDir dir;
  EXPECT_EXIT(
      {
        auto disk = std::make_shared<FailingFileSystem>("/LOG");
        auto env = NewFailStopEnv(disk, [](const std::string& error) {
          std::fprintf(stderr, "handler: %s\n", error.c_str());
          ::_exit(error.find("/LOG") != std::string::npos ? 42 : 1);
        });
        disk->fail = true;
        rocksdb::Options options;
        options.create_if_missing = true;
        options.env = env.get();
        rocksdb::DB* raw = nullptr;
        (void)rocksdb::DB::Open(options, dir.Sub("db"), &raw);
        ::_exit(2);  // opened without the handler
      },
      ::testing::ExitedWithCode(42), "handler: append .*/LOG");
}

TEST(FailStopFileSystemTest, APathThatIsNotThereIsNoDiskFault) {
  testing::TempDir dir;
  int calls = 0;
  auto fs =
      NewFailStopFileSystem(rocksdb::FileSystem::Default(), [&](const std::string&) { ++calls; });
  rocksdb::IOStatus s =
      fs->RenameFile(dir.Sub("missing"), dir.Sub("elsewhere"), rocksdb::IOOptions(), nullptr);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(calls, 0) << s.ToString();
}

}  // namespace
}  // namespace loyalty
