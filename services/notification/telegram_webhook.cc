#include "services/notification/telegram_webhook.h"

#include <civetweb.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>
#include <string_view>

#include "common/log.h"
#include "loyalty/v1/notification_internal.pb.h"
#include "services/notification/channels/http_client.h"

namespace loyalty::notification {
namespace {

constexpr size_t kMaxBody = 64 * 1024;

// Compares the digests in constant time: how long the answer takes tells nothing about how
// much of a guess matched, nor its length.
bool SameSecret(std::string_view expected, std::string_view presented) {
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

void Respond(mg_connection* conn, int status, const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
            "Connection: close\r\n\r\n",
            status, status == 200 ? "OK" : "Error", body.size());
  mg_write(conn, body.data(), body.size());
}

int Handle(mg_connection* conn, void* arg) {
  auto* webhook = static_cast<TelegramWebhook*>(arg);
  const mg_request_info* info = mg_get_request_info(conn);
  if (std::strcmp(info->request_method, "POST") != 0) {
    Respond(conn, 405, "{}");
    return 405;
  }
  if (!webhook->secret().empty()) {
    const char* token = mg_get_header(conn, "X-Telegram-Bot-Api-Secret-Token");
    if (token == nullptr || !SameSecret(webhook->secret(), token)) {
      Respond(conn, 401, "{}");
      return 401;
    }
  }
  std::string body;
  char buf[4096];
  int n;
  while ((n = mg_read(conn, buf, sizeof buf)) > 0) {
    body.append(buf, static_cast<size_t>(n));
    if (body.size() > kMaxBody) {
      Respond(conn, 413, "{}");
      return 413;
    }
  }
  int status = 200;
  std::string reply = webhook->HandleUpdate(body, &status);
  Respond(conn, status, reply.empty() ? "{}" : reply);
  return status;
}

}  // namespace

TelegramWebhook::~TelegramWebhook() { Stop(); }

std::string TelegramWebhook::HandleUpdate(const std::string& update_json, int* http_status) {
  v1::notificationinternal::TelegramUpdate update;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(update_json, &update, options).ok()) {
    *http_status = 400;
    return "";
  }
  *http_status = 200;
  // Updates without a text message (edits, joins, stickers) need no answer; Telegram only
  // needs a 200 so that it does not redeliver them.
  if (!update.has_message() || update.message().text().empty()) return "";
  std::string chat_id = std::to_string(update.message().chat().id());
  std::string text = bot_.Handle(chat_id, update.message().text());
  return "{\"method\":\"sendMessage\",\"chat_id\":" + chat_id + ",\"text\":" + JsonString(text) +
         "}";
}

Status TelegramWebhook::Start(const std::string& address) {
  mg_init_library(0);
  std::string ports = address;
  if (ports.rfind("0.0.0.0:", 0) == 0) ports = ports.substr(8);
  const char* options[] = {"listening_ports",    ports.c_str(), "num_threads", "4",
                           "request_timeout_ms", "10000",       nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof callbacks);
  ctx_ = mg_start(&callbacks, nullptr, options);
  if (ctx_ == nullptr) return Internal("telegram.webhook_address: cannot listen on " + address);
  mg_set_request_handler(ctx_, "/telegram/webhook", Handle, this);
  mg_server_port server_ports[4];
  int count = mg_get_server_ports(ctx_, 4, server_ports);
  if (count > 0) port_ = server_ports[0].port;
  return Status::Ok();
}

void TelegramWebhook::Stop() {
  if (ctx_ != nullptr) {
    mg_stop(ctx_);
    ctx_ = nullptr;
  }
}

}  // namespace loyalty::notification
