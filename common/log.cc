#include "common/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace loyalty {
namespace {

std::mutex g_mu;
std::string g_service = "loyalty";
LogLevel g_level = LogLevel::kInfo;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void SetLogService(std::string service) {
  std::lock_guard lock(g_mu);
  g_service = std::move(service);
}

void SetLogLevel(LogLevel level) {
  std::lock_guard lock(g_mu);
  g_level = level;
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

void Log(LogLevel level, const std::string& message, LogFields fields) {
  std::lock_guard lock(g_mu);
  if (level < g_level) return;
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line = "{\"ts\":\"" + std::string(ts) + "." +
                     (ms < 100 ? (ms < 10 ? "00" : "0") : "") + std::to_string(ms) +
                     "Z\",\"level\":\"" + LevelName(level) + "\",\"service\":\"" +
                     JsonEscape(g_service) + "\",\"msg\":\"" + JsonEscape(message) + "\"";
  for (const auto& [k, v] : fields) line += ",\"" + JsonEscape(k) + "\":\"" + JsonEscape(v) + "\"";
  line += "}\n";
  std::fputs(line.c_str(), stderr);
}

}  // namespace loyalty
