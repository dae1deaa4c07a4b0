// The delivery channels: each turns a rendered notification into one request to the outside
// world and classifies the outcome. Every request has a timeout; none retries by itself
// (the core decides retries, so that every attempt is recorded).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/config.h"
#include "loyalty/v1/notification.pb.h"
#include "services/notification/core/notification_core.h"

namespace loyalty::notification {

class Channel {
 public:
  virtual ~Channel() = default;
  virtual SendResult Send(const v1::Notification& n) = 0;
};

// HTTP POST of a JSON body to the member's URL, signed so that the receiver can check origin
// and freshness: X-Loyalty-Timestamp (Unix seconds) and X-Loyalty-Signature
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)). X-Loyalty-Notification-Id
// is stable across retries, so receivers can drop a repeat.
class WebhookChannel : public Channel {
 public:
  WebhookChannel(const Clock& clock, std::string secret, int64_t timeout_ms)
      : clock_(clock), secret_(std::move(secret)), timeout_ms_(timeout_ms) {}
  SendResult Send(const v1::Notification& n) override;
  static std::string Body(const v1::Notification& n);
  static std::string Signature(const std::string& secret, const std::string& timestamp,
                               const std::string& body);

 private:
  const Clock& clock_;
  std::string secret_;
  int64_t timeout_ms_;
};

// Telegram Bot API sendMessage; base_url is https://api.telegram.org in production.
class TelegramChannel : public Channel {
 public:
  TelegramChannel(std::string base_url, std::string token, int64_t timeout_ms)
      : base_url_(std::move(base_url)), token_(std::move(token)), timeout_ms_(timeout_ms) {}
  SendResult Send(const v1::Notification& n) override;

 private:
  std::string base_url_;
  std::string token_;
  int64_t timeout_ms_;
};

// A generic HTTP SMS gateway: POST to url_template with body_template; {to}, {text} and {id}
// are replaced (URL-encoded in the URL; JSON-escaped in a JSON body, URL-encoded in a form
// body). Auth: an extra header line and/or basic auth.
struct SmsOptions {
  std::string url_template;
  std::string body_template = R"({"to":"{to}","text":"{text}","id":"{id}"})";
  std::string content_type = "application/json";
  std::string auth_header;
  std::string username;
  std::string password;
  int64_t timeout_ms = 10000;
};
class SmsChannel : public Channel {
 public:
  explicit SmsChannel(SmsOptions options) : options_(std::move(options)) {}
  SendResult Send(const v1::Notification& n) override;

 private:
  SmsOptions options_;
};

// E-mail over SMTP with libcurl: text/plain UTF-8 (base64), the subject RFC 2047-encoded,
// and a Message-ID made from the notification id so that a repeat is recognisable.
struct SmtpOptions {
  std::string url;  // smtp://host:port or smtps://host:port
  std::string from;
  std::string username;
  std::string password;
  bool require_tls = false;  // STARTTLS required (else used when offered)
  int64_t timeout_ms = 15000;
};
class SmtpChannel : public Channel {
 public:
  SmtpChannel(const Clock& clock, SmtpOptions options)
      : clock_(clock), options_(std::move(options)) {}
  SendResult Send(const v1::Notification& n) override;
  std::string Message(const v1::Notification& n) const;

 private:
  const Clock& clock_;
  SmtpOptions options_;
};

// A channel without configuration: every notification for it fails permanently, so that it
// is dead-lettered with a clear reason rather than queued forever.
class UnconfiguredChannel : public Channel {
 public:
  explicit UnconfiguredChannel(std::string name) : name_(std::move(name)) {}
  SendResult Send(const v1::Notification&) override {
    return {SendResult::Outcome::kPermanent, "channel " + name_ + " is not configured", 0};
  }

 private:
  std::string name_;
};

// The channels from the keys under "channels." (declared by ChannelKeys); a channel without
// its secret, token or url stays unconfigured.
std::map<std::string, std::unique_ptr<Channel>> ChannelsFromConfig(const Config& config,
                                                                   const Clock& clock);
ConfigKeys ChannelKeys();

}  // namespace loyalty::notification
