// Notification's domain modules, wired once by NotificationCore; the flows take them from
// here. All of them are guarded by the facade's mutex.
#pragma once

#include "common/clock.h"
#include "common/store.h"
#include "services/notification/core/daily_caps.h"
#include "services/notification/core/delivery_log.h"
#include "services/notification/core/digest_book.h"
#include "services/notification/core/dispatch_queue.h"
#include "services/notification/core/notification_config.h"
#include "services/notification/core/preference_book.h"
#include "services/notification/core/telegram_links.h"
#include "services/notification/core/template_book.h"

namespace loyalty::notification {

struct Modules {
  const NotificationConfig& config;
  const Clock& clock;
  const Store& store;
  PreferenceBook& prefs;
  TelegramLinks& links;
  TemplateBook& templates;
  DeliveryLog& log;
  DispatchQueue& queue;
  DailyCaps& caps;
  DigestBook& digests;
};

}  // namespace loyalty::notification
