#include "services/notification/channels/channels.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstring>

#include "common/log.h"
#include "services/notification/channels/http_client.h"

namespace loyalty::notification {
namespace {

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

std::string Base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

struct Upload {
  const std::string* data;
  size_t pos = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t n, void* arg) {
  auto* upload = static_cast<Upload*>(arg);
  size_t left = upload->data->size() - upload->pos;
  size_t take = std::min(left, size * n);
  std::memcpy(buffer, upload->data->data() + upload->pos, take);
  upload->pos += take;
  return take;
}

}  // namespace

std::string WebhookChannel::Body(const v1::Notification& n) {
  return "{\"notification_id\":" + JsonString(n.notification_id()) +
         ",\"event_id\":" + JsonString(n.event_id()) +
         ",\"member_id\":" + JsonString(n.member_id()) + ",\"kind\":" + JsonString(n.kind()) +
         ",\"language\":" + JsonString(n.language()) + ",\"subject\":" + JsonString(n.subject()) +
         ",\"text\":" + JsonString(n.body()) +
         ",\"created_at_ms\":" + std::to_string(n.created_at_ms()) + "}";
}

std::string WebhookChannel::Signature(const std::string& secret, const std::string& timestamp,
                                      const std::string& body) {
  std::string signed_text = timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), mac, &len);
  static const char* hex = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(hex[mac[i] >> 4]);
    out.push_back(hex[mac[i] & 15]);
  }
  return out;
}

SendResult WebhookChannel::Send(const v1::Notification& n) {
  HttpRequest request;
  request.url = n.address();
  request.body = Body(n);
  std::string timestamp = std::to_string(clock_.NowMs() / 1000);
  request.headers = {"Content-Type: application/json",
                     "X-Loyalty-Notification-Id: " + n.notification_id(),
                     "X-Loyalty-Timestamp: " + timestamp,
                     "X-Loyalty-Signature: " + Signature(secret_, timestamp, request.body)};
  request.timeout_ms = timeout_ms_;
  return Classify(HttpPost(request));
}

SendResult TelegramChannel::Send(const v1::Notification& n) {
  if (token_.empty()) return {SendResult::Outcome::kPermanent, "telegram token not configured", 0};
  HttpRequest request;
  request.url = base_url_ + "/bot" + token_ + "/sendMessage";
  request.body =
      "{\"chat_id\":" + JsonString(n.address()) + ",\"text\":" + JsonString(n.body()) + "}";
  request.headers = {"Content-Type: application/json"};
  request.timeout_ms = timeout_ms_;
  return Classify(HttpPost(request));
}

SendResult SmsChannel::Send(const v1::Notification& n) {
  bool json = options_.content_type.find("json") != std::string::npos;
  auto body_value = [&](const std::string& v) { return json ? JsonEscape(v) : UrlEncode(v); };
  HttpRequest request;
  request.url = Replace(Replace(Replace(options_.url_template, "{to}", UrlEncode(n.address())),
                                "{text}", UrlEncode(n.body())),
                        "{id}", UrlEncode(n.notification_id()));
  request.body = Replace(Replace(Replace(options_.body_template, "{to}", body_value(n.address())),
                                 "{text}", body_value(n.body())),
                         "{id}", body_value(n.notification_id()));
  request.headers = {"Content-Type: " + options_.content_type};
  if (!options_.auth_header.empty()) request.headers.push_back(options_.auth_header);
  request.username = options_.username;
  request.password = options_.password;
  request.timeout_ms = options_.timeout_ms;
  return Classify(HttpPost(request));
}

std::string SmtpChannel::Message(const v1::Notification& n) const {
  time_t seconds = static_cast<time_t>(clock_.NowMs() / 1000);
  char date[64];
  struct tm tm_utc;
  gmtime_r(&seconds, &tm_utc);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm_utc);
  std::string id = n.notification_id();
  for (char& c : id) {
    if (c == '|' || c == ':' || c == '@') c = '.';
  }
  std::string body64 = Base64(n.body());
  std::string wrapped;
  for (size_t i = 0; i < body64.size(); i += 76) wrapped += body64.substr(i, 76) + "\r\n";
  return "Date: " + std::string(date) + "\r\n" + "From: " + options_.from + "\r\n" +
         "To: " + n.address() + "\r\n" + "Message-ID: <" + id + "@loyalty.notification>\r\n" +
         "Subject: =?UTF-8?B?" + Base64(n.subject()) + "?=\r\n" + "MIME-Version: 1.0\r\n" +
         "Content-Type: text/plain; charset=UTF-8\r\n" + "Content-Transfer-Encoding: base64\r\n" +
         "X-Loyalty-Notification-Id: " + n.notification_id() + "\r\n\r\n" + wrapped;
}

SendResult SmtpChannel::Send(const v1::Notification& n) {
  InitHttp();
  auto start = std::chrono::steady_clock::now();
  std::string message = Message(n);
  Upload upload{&message};
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return {SendResult::Outcome::kTransient, "curl_easy_init failed", 0};
  char error[CURL_ERROR_SIZE] = {0};
  std::string from = "<" + options_.from + ">";
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + n.address() + ">").c_str());
  curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_USE_SSL, options_.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY);
  if (!options_.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.password.c_str());
  }
  CURLcode code = curl_easy_perform(curl);
  long smtp_code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &smtp_code);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  SendResult result;
  result.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  if (code == CURLE_OK) {
    result.outcome = SendResult::Outcome::kOk;
    result.detail = "smtp " + std::to_string(smtp_code);
    return result;
  }
  // A 5xx reply (unknown mailbox, rejected sender) is final; 4xx and no reply are not.
  result.outcome =
      smtp_code >= 500 ? SendResult::Outcome::kPermanent : SendResult::Outcome::kTransient;
  std::string text = error[0] ? error : curl_easy_strerror(code);
  result.detail = smtp_code > 0 ? "smtp " + std::to_string(smtp_code) + ": " + text
                  : code == CURLE_OPERATION_TIMEDOUT ? "timeout: " + text
                                                     : text;
  return result;
}

ConfigKeys ChannelKeys() {
  const SmsOptions sms;
  const SmtpOptions smtp;
  return {
      StringKey("channels.webhook.secret", "",
                "HMAC secret of the signed webhook channel (empty: channel off)"),
      IntKey("channels.webhook.timeout_ms", 10000, "webhook request timeout"),
      StringKey("channels.telegram.token", "", "Telegram bot token (empty: channel off)"),
      StringKey("channels.telegram.base_url", "https://api.telegram.org",
                "Telegram Bot API base URL"),
      IntKey("channels.telegram.timeout_ms", 10000, "Telegram request timeout"),
      StringKey("channels.sms.url", "",
                "SMS gateway URL; {to}, {text}, {id} replaced (empty: channel off)"),
      StringKey("channels.sms.body", sms.body_template,
                "SMS request body; {to}, {text}, {id} replaced"),
      StringKey("channels.sms.content_type", sms.content_type, "content type of the SMS body"),
      StringKey("channels.sms.auth_header", "",
                "an extra header line for the SMS gateway (e.g. Authorization: Bearer ...)"),
      StringKey("channels.sms.username", "", "SMS gateway basic-auth user"),
      StringKey("channels.sms.password", "", "SMS gateway basic-auth password"),
      IntKey("channels.sms.timeout_ms", sms.timeout_ms, "SMS request timeout"),
      StringKey("channels.email.url", "",
                "SMTP server, smtp://host:port or smtps://host:port (empty: channel off)"),
      StringKey("channels.email.from", "loyalty@localhost", "sender address of e-mails"),
      StringKey("channels.email.username", "", "SMTP user"),
      StringKey("channels.email.password", "", "SMTP password"),
      BoolKey("channels.email.require_tls", smtp.require_tls,
              "STARTTLS required (else used when offered)"),
      IntKey("channels.email.timeout_ms", smtp.timeout_ms, "SMTP session timeout"),
  };
}

std::map<std::string, std::unique_ptr<Channel>> ChannelsFromConfig(const Config& in,
                                                                   const Clock& clock) {
  Config config = in;
  config.Declare(ChannelKeys());
  std::map<std::string, std::unique_ptr<Channel>> channels;
  std::string secret = config.GetString("channels.webhook.secret");
  if (!secret.empty()) {
    channels["webhook"] = std::make_unique<WebhookChannel>(
        clock, secret, config.GetInt("channels.webhook.timeout_ms"));
  }
  std::string token = config.GetString("channels.telegram.token");
  if (!token.empty()) {
    channels["telegram"] =
        std::make_unique<TelegramChannel>(config.GetString("channels.telegram.base_url"), token,
                                          config.GetInt("channels.telegram.timeout_ms"));
  }
  std::string sms_url = config.GetString("channels.sms.url");
  if (!sms_url.empty()) {
    SmsOptions o;
    o.url_template = sms_url;
    o.body_template = config.GetString("channels.sms.body");
    o.content_type = config.GetString("channels.sms.content_type");
    o.auth_header = config.GetString("channels.sms.auth_header");
    o.username = config.GetString("channels.sms.username");
    o.password = config.GetString("channels.sms.password");
    o.timeout_ms = config.GetInt("channels.sms.timeout_ms");
    channels["sms"] = std::make_unique<SmsChannel>(o);
  }
  std::string smtp_url = config.GetString("channels.email.url");
  if (!smtp_url.empty()) {
    SmtpOptions o;
    o.url = smtp_url;
    o.from = config.GetString("channels.email.from");
    o.username = config.GetString("channels.email.username");
    o.password = config.GetString("channels.email.password");
    o.require_tls = config.GetBool("channels.email.require_tls");
    o.timeout_ms = config.GetInt("channels.email.timeout_ms");
    channels["email"] = std::make_unique<SmtpChannel>(clock, o);
  }
  for (const char* name : kChannels) {
    if (!channels.count(name)) channels[name] = std::make_unique<UnconfiguredChannel>(name);
  }
  return channels;
}

}  // namespace loyalty::notification
