// The notification modules without the facade: a real store in a temp dir, a manual clock,
// and every module wired as NotificationCore wires them.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "common/clock.h"
#include "common/outbox.h"
#include "common/store.h"
#include "services/notification/core/digest_flow.h"
#include "services/notification/core/event_intake.h"
#include "services/notification/core/modules.h"
#include "services/notification/core/notification_core.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace loyalty::notification {

inline constexpr int64_t kModuleJan1 = 1'767'225'600'000;  // 2026-01-01T00:00Z

class ModuleEnv {
 public:
  explicit ModuleEnv(NotificationConfig config = {}) : config(std::move(config)) {
    clock.Set(kModuleJan1 + 12 * kHourMs);
    Open();
  }

  // Reopens the store and every module, as a restart does.
  void Reopen() {
    modules.reset();
    digests.reset();
    caps.reset();
    queue.reset();
    log.reset();
    templates.reset();
    links.reset();
    prefs.reset();
    outbox.reset();
    store.reset();
    Open();
  }

  // Makes txn durable and lets the books forget it, as the core's Stage does.
  void Commit(Txn& txn) {
    store->Commit([&](StagedWrite& write) { txn.WriteTo(write, *outbox); });
    caps->Staged();
    prefs->Trim();
  }

  v1::Preferences Prefs(const std::string& member) const {
    v1::Preferences p;
    p.set_member_id(member);
    p.set_email(member + "@example.com");
    p.set_phone("+380501234567");
    p.add_channels("email");
    p.add_channels("sms");
    return p;
  }

  TimeMs Now() const { return TimeMs(clock.NowMs()); }

  testing::TempDir dir;
  ManualClock clock;
  NotificationConfig config;
  std::unique_ptr<Store> store;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<PreferenceBook> prefs;
  std::unique_ptr<TelegramLinks> links;
  std::unique_ptr<TemplateBook> templates;
  std::unique_ptr<DeliveryLog> log;
  std::unique_ptr<DispatchQueue> queue;
  std::unique_ptr<DailyCaps> caps;
  std::unique_ptr<DigestBook> digests;
  std::unique_ptr<Modules> modules;

 private:
  void Open() {
    store = testing::OpenStoreOrThrow(dir.path(), NotificationColumnFamilies());
    outbox = std::make_unique<Outbox>(*store);
    prefs = std::make_unique<PreferenceBook>(*store, config, config.preference_cache_bytes);
    links = std::make_unique<TelegramLinks>(*store, config);
    templates = std::make_unique<TemplateBook>(*store);
    log = std::make_unique<DeliveryLog>(*store);
    queue = std::make_unique<DispatchQueue>(*store, *log, config);
    caps = std::make_unique<DailyCaps>(*store);
    digests = std::make_unique<DigestBook>(*store);
    modules = std::make_unique<Modules>(
        Modules{config, clock, *store, *prefs, *links, *templates, *log, *queue, *caps, *digests});
  }
};

}  // namespace loyalty::notification
