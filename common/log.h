// Structured logging: one JSON object per line on stderr, with the service name, level,
// message and key/value fields, so that log collectors can parse it without patterns.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

namespace loyalty {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

using LogFields = std::initializer_list<std::pair<std::string, std::string>>;

void SetLogService(std::string service);
void SetLogLevel(LogLevel level);
void Log(LogLevel level, const std::string& message, LogFields fields = {});
inline void LogInfo(const std::string& m, LogFields f = {}) { Log(LogLevel::kInfo, m, f); }
inline void LogWarn(const std::string& m, LogFields f = {}) { Log(LogLevel::kWarn, m, f); }
inline void LogError(const std::string& m, LogFields f = {}) { Log(LogLevel::kError, m, f); }

// Escapes s as the body of a JSON string.
std::string JsonEscape(const std::string& s);

}  // namespace loyalty
