// The balance bot's HTTP endpoint (civetweb): Telegram POSTs each Update to
// /telegram/webhook; the reply goes back in the response body as a sendMessage call, which
// the Bot API executes (no second request). When a secret is configured, the
// X-Telegram-Bot-Api-Secret-Token header must match it (setWebhook's secret_token).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "services/notification/core/bot.h"

struct mg_context;

namespace loyalty::notification {

class TelegramWebhook {
 public:
  TelegramWebhook(BalanceBot& bot, std::string secret) : bot_(bot), secret_(std::move(secret)) {}
  ~TelegramWebhook();
  // address "host:port" (port 0: any free one).
  Status Start(const std::string& address);
  void Stop();
  int port() const { return port_; }

  // The whole exchange without HTTP, for tests: the JSON update in, the JSON response out
  // (empty when there is nothing to say).
  std::string HandleUpdate(const std::string& update_json, int* http_status);
  const std::string& secret() const { return secret_; }

 private:
  BalanceBot& bot_;
  std::string secret_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

}  // namespace loyalty::notification
