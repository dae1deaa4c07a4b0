#include "common/store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.h"

namespace loyalty {
namespace {

TEST(StoreTest, CommittedWritesSurviveReopen) {
  testing::TempDir dir;
  {
    auto store = Store::Open(dir.path(), {"a", "b"});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    (*store)->Commit([](StagedWrite& w) {
      w.Put("a", "k1", "v1");
      w.Put("b", "k1", "other");
    });
  }
  auto store = Store::Open(dir.path(), {"a", "b"});
  ASSERT_TRUE(store.ok());
  std::string value;
  ASSERT_TRUE((*store)->Get("a", "k1", &value));
  EXPECT_EQ(value, "v1");
  ASSERT_TRUE((*store)->Get("b", "k1", &value));
  EXPECT_EQ(value, "other");
  EXPECT_FALSE((*store)->Get("a", "missing", &value));
}

TEST(StoreTest, VisiblePutsAreReadableBeforeTheyAreDurable) {
  testing::TempDir dir;
  auto store = Store::Open(dir.path(), {"a"});
  ASSERT_TRUE(store.ok());
  uint64_t ticket = (*store)->Stage([](StagedWrite& w) {
    w.PutVisible("a", "seen", "1");
    w.Put("a", "unseen", "2");
  });
  std::string value;
  EXPECT_TRUE((*store)->Get("a", "seen", &value));
  EXPECT_FALSE((*store)->Get("a", "unseen", &value));
  (*store)->WaitDurable(ticket);
  EXPECT_TRUE((*store)->Get("a", "unseen", &value));
}

TEST(StoreTest, MultiGetAnswersLikeGetForEachKey) {
  testing::TempDir dir;
  auto store = Store::Open(dir.path(), {"a"});
  ASSERT_TRUE(store.ok());
  (*store)->Commit([](StagedWrite& w) {
    w.Put("a", "durable", "d");
    w.Put("a", "deleted", "x");
  });
  // Not durable yet: a visible put and a visible delete answer, a plain put does not.
  (*store)->Stage([](StagedWrite& w) {
    w.PutVisible("a", "visible", "v");
    w.DeleteVisible("a", "deleted");
    w.Put("a", "plain", "p");
  });
  auto values =
      (*store)->MultiGet("a", {"visible", "durable", "missing", "deleted", "plain", "durable"});
  ASSERT_EQ(values.size(), 6u);
  EXPECT_EQ(values[0], "v");
  EXPECT_EQ(values[1], "d");
  EXPECT_EQ(values[2], std::nullopt);
  EXPECT_EQ(values[3], std::nullopt);
  EXPECT_EQ(values[4], std::nullopt);
  EXPECT_EQ(values[5], "d");
  for (const char* key : {"visible", "durable", "missing", "deleted", "plain"}) {
    std::string value;
    EXPECT_EQ((*store)->Get("a", key, &value), (*store)->MultiGet("a", {key})[0].has_value())
        << key;
  }
}

TEST(StoreTest, TheLaterChangeToAKeyWinsAlthoughGroupsAreWrittenSortedByKey) {
  testing::TempDir dir;
  auto store = Store::Open(dir.path(), {"a", "b"});
  ASSERT_TRUE(store.ok());
  (*store)->Commit([](StagedWrite& w) { w.Put("a", "deleted-then-put", "old"); });
  // Two groups staged before one write: the writer merges and sorts them.
  uint64_t first = (*store)->Stage([](StagedWrite& w) {
    w.Put("a", "z-last-key", "1");
    w.Put("a", "put-twice", "first");
    w.Delete("a", "deleted-then-put");
    w.Put("a", "put-then-deleted", "x");
    w.Put("b", "put-twice", "other family");
  });
  uint64_t second = (*store)->Stage([](StagedWrite& w) {
    w.Put("a", "put-twice", "second");
    w.Put("a", "deleted-then-put", "new");
    w.Delete("a", "put-then-deleted");
    w.Put("a", "a-first-key", "2");
  });
  (*store)->WaitDurable(std::max(first, second));
  std::string value;
  ASSERT_TRUE((*store)->Get("a", "put-twice", &value));
  EXPECT_EQ(value, "second");
  ASSERT_TRUE((*store)->Get("a", "deleted-then-put", &value));
  EXPECT_EQ(value, "new");
  EXPECT_FALSE((*store)->Get("a", "put-then-deleted", &value));
  ASSERT_TRUE((*store)->Get("b", "put-twice", &value));
  EXPECT_EQ(value, "other family");
  std::vector<std::string> keys;
  (*store)->Scan("a", "", "", [&](std::string_view key, std::string_view) {
    keys.emplace_back(key);
    return true;
  });
  EXPECT_EQ(keys, (std::vector<std::string>{"a-first-key", "deleted-then-put", "put-twice",
                                            "z-last-key"}));
}

TEST(StoreTest, ConcurrentCommitsAllLand) {
  testing::TempDir dir;
  auto store = Store::Open(dir.path(), {"a"});
  ASSERT_TRUE(store.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        (*store)->Commit(
            [&](StagedWrite& w) { w.Put("a", std::to_string(t) + ":" + std::to_string(i), "x"); });
      }
    });
  }
  for (auto& th : threads) th.join();
  int count = 0;
  (*store)->Scan("a", "", "", [&](std::string_view, std::string_view) {
    ++count;
    return true;
  });
  EXPECT_EQ(count, 8 * 200);
}

TEST(StoreTest, WhenDurableRunsOnceTheGroupIsWrittenAndAtOnceIfItIs) {
  testing::TempDir dir;
  auto store = Store::Open(dir.path(), {"a"});
  ASSERT_TRUE(store.ok());
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool durable_when_called = false;
  uint64_t ticket = (*store)->Stage([](StagedWrite& w) { w.Put("a", "k", "v"); });
  std::string value;
  ASSERT_FALSE((*store)->Get("a", "k", &value));  // not written: nobody waits for it yet
  (*store)->WhenDurable(ticket, [&] {
    std::string seen;
    std::lock_guard lock(mu);
    durable_when_called = (*store)->Get("a", "k", &seen) && seen == "v";
    done = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }));
  }
  EXPECT_TRUE(durable_when_called);

  bool inline_call = false;
  (*store)->WhenDurable(ticket, [&] { inline_call = true; });
  EXPECT_TRUE(inline_call);  // already durable: run by the caller
}

TEST(StoreTest, WhenDurableCallbacksFromManyThreadsAllRunBesideSyncWaiters) {
  testing::TempDir dir;
  auto store = Store::Open(dir.path(), {"a"});
  ASSERT_TRUE(store.ok());
  std::atomic<int> called{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string key = std::to_string(t) + ":" + std::to_string(i);
        uint64_t ticket = (*store)->Stage([&](StagedWrite& w) { w.Put("a", key, "x"); });
        if (t % 2 == 0) {
          (*store)->WaitDurable(ticket);
        } else {
          (*store)->WhenDurable(ticket, [&called] { ++called; });
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < 1000 && called < 4 * 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(called, 4 * 200);
  int count = 0;
  (*store)->Scan("a", "", "", [&](std::string_view, std::string_view) {
    ++count;
    return true;
  });
  EXPECT_EQ(count, 8 * 200);
}

TEST(StoreTest, ClosingTheStoreWritesWhatIsStagedAndRunsItsCallbacks) {
  testing::TempDir dir;
  bool called = false;
  {
    auto store = Store::Open(dir.path(), {"a"});
    ASSERT_TRUE(store.ok());
    uint64_t ticket = (*store)->Stage([](StagedWrite& w) { w.Put("a", "k", "v"); });
    (*store)->WhenDurable(ticket, [&] { called = true; });
  }
  EXPECT_TRUE(called);
  auto store = Store::Open(dir.path(), {"a"});
  ASSERT_TRUE(store.ok());
  std::string value;
  EXPECT_TRUE((*store)->Get("a", "k", &value));
}

TEST(StoreTest, ScansForwardAndBackwardWithinAPrefix) {
  testing::TempDir dir;
  auto store = Store::Open(dir.path(), {"a"});
  ASSERT_TRUE(store.ok());
  (*store)->Commit([](StagedWrite& w) {
    for (const char* k : {"p1", "p2", "p3", "q1"}) w.Put("a", k, k);
  });
  std::vector<std::string> seen;
  (*store)->ScanBackward("a", "p", "", [&](std::string_view k, std::string_view) {
    seen.emplace_back(k);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"p3", "p2", "p1"}));
  seen.clear();
  (*store)->ScanBackward("a", "p", "p3", [&](std::string_view k, std::string_view) {
    seen.emplace_back(k);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"p2", "p1"}));
  seen.clear();
  (*store)->Scan("a", "p2", "q", [&](std::string_view k, std::string_view) {
    seen.emplace_back(k);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"p2", "p3"}));
}

}  // namespace
}  // namespace loyalty
