#include "common/log.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

#include "common/time_util.h"

namespace gh::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

spdlog::logger& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("gatehouse",
                                              std::make_shared<spdlog::sinks::stdout_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

constexpr std::string_view kNames[] = {"debug", "info", "warn", "error", "off"};

}  // namespace

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
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
        if (c < 0x20)
          out += fmt::format("\\u{:04x}", c);
        else
          out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

void SetLevel(Level level) { g_level.store(static_cast<int>(level)); }

bool ParseLevel(std::string_view name, Level& out) {
  for (int i = 0; i < 5; ++i)
    if (kNames[i] == name) {
      out = static_cast<Level>(i);
      return true;
    }
  return false;
}

bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  std::string line = fmt::format(R"({{"ts":"{}","level":"{}","msg":"{}")",
                                 FormatRfc3339Millis(std::chrono::system_clock::now()),
                                 kNames[static_cast<int>(level)], JsonEscape(msg));
  for (const auto& f : fields) {
    line += fmt::format(R"(,"{}":)", JsonEscape(f.key));
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string_view>)
            line += "\"" + JsonEscape(v) + "\"";
          else if constexpr (std::is_same_v<T, bool>)
            line += v ? "true" : "false";
          else
            line += fmt::format("{}", v);
        },
        f.value);
  }
  line += "}";
  Logger().info(line);
}

void WriteRaw(std::string_view json_line) {
  if (!Enabled(Level::kInfo)) return;
  Logger().info(json_line);
}

}  // namespace gh::log
