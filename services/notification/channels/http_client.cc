#include "services/notification/channels/http_client.h"

#include <curl/curl.h>

#include <cctype>
#include <chrono>
#include <mutex>

#include "common/log.h"

namespace loyalty::notification {
namespace {

size_t Collect(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() < 64 * 1024) body->append(data, size * n);  // answers we read are small
  return size * n;
}

}  // namespace

void InitHttp() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpResponse HttpPost(const HttpRequest& request) {
  InitHttp();
  HttpResponse response;
  auto start = std::chrono::steady_clock::now();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    response.curl_code = CURLE_FAILED_INIT;
    response.error = "curl_easy_init failed";
    return response;
  }
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM in threads
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  if (!request.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, request.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, request.password.c_str());
  }
  CURLcode code = curl_easy_perform(curl);
  response.curl_code = code;
  if (code == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
  } else {
    response.error = error[0] ? error : curl_easy_strerror(code);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  response.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
  return response;
}

SendResult Classify(const HttpResponse& r) {
  SendResult result;
  result.latency_ms = r.latency_ms;
  if (r.status == 0) {
    bool permanent =
        r.curl_code == CURLE_URL_MALFORMAT || r.curl_code == CURLE_UNSUPPORTED_PROTOCOL;
    result.outcome = permanent ? SendResult::Outcome::kPermanent : SendResult::Outcome::kTransient;
    result.detail = r.curl_code == CURLE_OPERATION_TIMEDOUT ? "timeout: " + r.error : r.error;
    return result;
  }
  result.detail = "http " + std::to_string(r.status);
  if (r.status >= 200 && r.status < 300) {
    result.outcome = SendResult::Outcome::kOk;
  } else if (r.status == 408 || r.status == 425 || r.status == 429 || r.status >= 500) {
    result.outcome = SendResult::Outcome::kTransient;
  } else {
    result.outcome = SendResult::Outcome::kPermanent;
  }
  return result;
}

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string JsonString(const std::string& s) { return "\"" + JsonEscape(s) + "\""; }

}  // namespace loyalty::notification
