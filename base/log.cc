#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>

#include "base/clock.h"

namespace aidi::log {
namespace {

std::string& ComponentName() {
  static std::string name = "aidi";
  return name;
}
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

void AppendValue(std::string& out, std::string_view v) {
  if (!NeedsQuotes(v)) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
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
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  value = buf;
}

void SetComponent(std::string component) { ComponentName() = std::move(component); }
void SetLevel(Level level) { g_level = static_cast<int>(level); }

bool ParseLevel(std::string_view name, Level* out) {
  if (name == "debug")
    *out = Level::kDebug;
  else if (name == "info")
    *out = Level::kInfo;
  else if (name == "warn")
    *out = Level::kWarn;
  else if (name == "error")
    *out = Level::kError;
  else
    return false;
  return true;
}

std::string FormatLine(Level level, std::string_view component, std::string_view msg, Fields f) {
  std::string line = "ts=" + FormatRfc3339Micro(Clock::Real().Now());
  line += " level=";
  line += LevelName(level);
  line += " component=";
  AppendValue(line, component);
  line += " msg=";
  AppendValue(line, msg);
  for (const Field& field : f) {
    line += ' ';
    line += field.key;
    line += '=';
    AppendValue(line, field.value);
  }
  line += '\n';
  return line;
}

void Write(Level level, std::string_view msg, Fields fields) {
  if (static_cast<int>(level) < g_level.load()) return;
  std::string line = FormatLine(level, ComponentName(), msg, fields);
  // One write(2) per line keeps lines whole when threads log at once.
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
}

std::string Redact(std::string_view secret) {
  return "<redacted, " + std::to_string(secret.size()) + " bytes>";
}

}  // namespace aidi::log
