// loyalty-notification: wires the notification core to RocksDB, Kafka (loyalty.events.v1),
// the delivery channels, the Telegram bot endpoint, gRPC and Prometheus.
#include <atomic>
#include <chrono>
#include <thread>

#include "common/cache_metrics.h"
#include "common/clock.h"
#include "common/grpc_accrual_client.h"
#include "common/grpc_server.h"
#include "common/log.h"
#include "common/periodic_task.h"
#include "common/service_runtime.h"
#include "loyalty/v1/internal.pb.h"
#include "services/notification/channels/channels.h"
#include "services/notification/channels/http_client.h"
#include "services/notification/core/bot.h"
#include "services/notification/core/notification_core.h"
#include "services/notification/dispatcher.h"
#include "services/notification/event_consumer.h"
#include "services/notification/grpc_redemption_client.h"
#include "services/notification/grpc_service.h"
#include "services/notification/notification_metrics.h"
#include "services/notification/telegram_webhook.h"

namespace loyalty::notification {
namespace {

// Every key loyalty-notification reads: the runtime's, the wiring's here, the settings' and
// the channels'.
ConfigKeys Keys() {
  ConfigKeys keys = JoinKeys(
      ServiceRuntime::RuntimeKeys("notification", 50054, 9467),
      {
          StringKey("kafka.group_id", "loyalty-notification",
                    "consumer group of loyalty.events.v1"),
          IntKey("kafka.max_batch", 500, "input messages per durable write"),
          IntKey("kafka.max_wait_ms", 5, "how long a partial batch waits for more"),
          IntKey("dispatch.workers_per_channel", 2, "delivery threads per channel"),
          StringKey(
              "accrual.address", "",
              "accrual's gRPC address (or its instances', comma-separated in index order), for "
              "the bot's balances (empty: unavailable)"),
          StringKey("redemption.address", "",
                    "redemption's gRPC address, for reward suggestions and /rewards (empty: "
                    "none)"),
          IntKey("redemption.timeout_ms", 500, "deadline of each call to redemption"),
          StringKey("telegram.webhook_secret", "",
                    "secret token Telegram sends with webhook updates (empty: not checked)"),
          StringKey("telegram.webhook_address", "",
                    "listen address of the Telegram webhook endpoint (empty: off)"),
          StringKey("telegram.port_file", "",
                    "if set, the webhook's bound port is written here as JSON (for tests)"),
      });
  return JoinKeys(JoinKeys(keys, NotificationConfig::Keys()), ChannelKeys());
}

int Main(int argc, char** argv) {
  auto rt =
      ServiceRuntime::Create("notification", argc, argv, NotificationColumnFamilies(), Keys());
  rt->SweepIdempotencyRecords<v1::internal::IdempotencyRecord>();
  rt->SweepDedupeRecords("seen_events");
  rt->AddRetentionSweep(
      [&store = rt->store()](int64_t now_ms, int64_t) { return SweepOldDayCounts(store, now_ms); });
  InitHttp();
  const Config& config = rt->config();
  auto settings = NotificationConfig::FromConfig(config);
  if (!settings.ok()) ServiceRuntime::Fail("bad notification configuration", settings.status());
  LogInfo("notification settings", {{"seed", std::to_string(settings->seed)},
                                    {"max_attempts", std::to_string(settings->max_attempts)}});
  BatchOptions batch_options;
  batch_options.max_batch = config.GetInt("kafka.max_batch");
  batch_options.max_wait_ms = static_cast<int>(config.GetInt("kafka.max_wait_ms"));

  SystemClock clock;
  NotificationCore core(rt->store(), rt->outbox(), clock, *settings);
  NotificationMetrics metrics(rt->registry());
  CacheMetrics preference_cache(rt->registry(), "preferences");
  PeriodicTask cache_metrics(std::chrono::seconds(1),
                             [&] { preference_cache.Update(core.PreferenceCacheStats()); });
  cache_metrics.Start();
  Dispatcher dispatcher(core, ChannelsFromConfig(config, clock), metrics,
                        static_cast<int>(config.GetInt("dispatch.workers_per_channel")));
  core.SetOnQueued([&] {
    dispatcher.Wake();
    rt->relay().Notify();
  });

  // The bot asks accrual for balances; without an address it answers "unavailable".
  std::unique_ptr<GrpcAccrualClient> accrual;
  std::string accrual_address = config.GetString("accrual.address");
  if (!accrual_address.empty()) {
    auto connected = ConnectAccrual(accrual_address, rt->kafka(), rt->channel_credentials());
    if (!connected.ok()) ServiceRuntime::Fail("cannot reach accrual", connected.status());
    accrual = std::move(*connected);
  }
  // Redemption suggests a reward in expiring-soon messages and answers /rewards; without an
  // address both behave as before it existed (no suggestion, "catalog not available"). The
  // deadline is short because the event consumer waits for it.
  std::unique_ptr<GrpcRedemptionClient> redemption;
  std::string redemption_address = config.GetString("redemption.address");
  if (!redemption_address.empty()) {
    redemption = std::make_unique<GrpcRedemptionClient>(
        redemption_address, rt->channel_credentials(),
        std::chrono::milliseconds(config.GetInt("redemption.timeout_ms")));
    core.SetRedemption(redemption.get());
  }
  BalanceBot bot(core, accrual.get(), redemption.get());
  TelegramWebhook webhook(bot, config.GetString("telegram.webhook_secret"));
  std::string webhook_address = config.GetString("telegram.webhook_address");
  if (!webhook_address.empty()) {
    if (Status s = webhook.Start(webhook_address); !s.ok()) {
      ServiceRuntime::Fail("cannot start the Telegram webhook", s);
    }
    std::string port_file = config.GetString("telegram.port_file");
    if (!port_file.empty()) {
      if (Status s = WritePortsFile(port_file, {{"telegram", webhook.port()}}); !s.ok()) {
        ServiceRuntime::Fail("cannot write the telegram port file", s);
      }
    }
    LogInfo("telegram webhook listening", {{"port", std::to_string(webhook.port())}});
  }

  auto consumer =
      KafkaConsumer::Create(rt->kafka(), config.GetString("kafka.group_id"), &rt->registry());
  if (!consumer.ok()) ServiceRuntime::Fail("cannot create the Kafka consumer", consumer.status());
  (*consumer)->OwnOnly(rt->ownership());
  EventConsumer events(core, **consumer, metrics, batch_options);
  if (Status s = events.Assign(); !s.ok()) ServiceRuntime::Fail("cannot read the events", s);

  std::atomic<bool> running{true};
  std::thread consume_thread([&] { events.Run(running); });
  dispatcher.Start();

  NotificationGrpcService service(core);
  return rt->ServeUntilSignal({&service}, [&] {
    running = false;
    consume_thread.join();
    webhook.Stop();
    dispatcher.Stop();
    cache_metrics.Stop();
  });
}

}  // namespace
}  // namespace loyalty::notification

int main(int argc, char** argv) { return loyalty::notification::Main(argc, argv); }
