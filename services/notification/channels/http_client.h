// A small blocking HTTP client over libcurl for the channel adapters, with a connect and a
// total timeout on every request, and the one place where HTTP outcomes are classified into
// delivered / retry later / never retry.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "services/notification/core/notification_core.h"

namespace loyalty::notification {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::string username;  // basic auth when not empty
  std::string password;
  int64_t timeout_ms = 10000;
  int64_t connect_timeout_ms = 3000;
};

struct HttpResponse {
  int status = 0;     // 0 when no HTTP answer came
  int curl_code = 0;  // CURLcode
  std::string error;  // curl's error text
  std::string body;
  int64_t latency_ms = 0;
};

// Calls curl_global_init once; call before threads start.
void InitHttp();

HttpResponse HttpPost(const HttpRequest& request);

// 2xx: delivered. No answer (refused, timeout, reset, DNS), 408, 425, 429 and 5xx: try again
// later. Other answers (4xx, 3xx: redirects are not followed) and malformed URLs: the
// request itself is wrong, retrying cannot help.
SendResult Classify(const HttpResponse& response);

std::string UrlEncode(const std::string& s);
std::string JsonString(const std::string& s);  // quoted and escaped

}  // namespace loyalty::notification
