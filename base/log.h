// Structured logging: one logfmt line per event on stderr.
//
//   aidi::log::Info("serving", {{"addr", addr}, {"tls", true}});
//   -> ts=2026-11-27T20:03:48.123456Z level=info component=devcluster msg=serving addr=... tls=true
//
// Values are quoted when they contain spaces, quotes or '='. Secrets never go through here: pass
// aidi::log::Redact(token) if a field must show that one was present. Safe from any thread: each
// line is written with a single write(2).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace aidi::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// One key=value pair; numbers and booleans are formatted without quotes.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, long long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, unsigned long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, unsigned long long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, double v);
  std::string key;
  std::string value;
};

using Fields = std::initializer_list<Field>;

// Process-wide settings; call once at start-up, before other threads log.
void SetComponent(std::string component);
void SetLevel(Level level);
bool ParseLevel(std::string_view name, Level* out);

void Write(Level level, std::string_view msg, Fields fields);
inline void Debug(std::string_view msg, Fields f = {}) { Write(Level::kDebug, msg, f); }
inline void Info(std::string_view msg, Fields f = {}) { Write(Level::kInfo, msg, f); }
inline void Warn(std::string_view msg, Fields f = {}) { Write(Level::kWarn, msg, f); }
inline void Error(std::string_view msg, Fields f = {}) { Write(Level::kError, msg, f); }

// Formats a line without writing it (used by Write, and by tests).
std::string FormatLine(Level level, std::string_view component, std::string_view msg, Fields f);

// "<redacted, 32 bytes>": shows that a secret was present without showing it.
std::string Redact(std::string_view secret);

}  // namespace aidi::log
