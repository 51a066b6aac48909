#include "core/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace learnloop {

namespace {

std::mutex g_mu;
spdlog::level::level_enum g_level = spdlog::level::info;
std::string g_format = "text";

// The syslog priority of a level, as journald reads it from a "<N>" prefix (sd-daemon(3)).
class PriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    int p = 6;
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        p = 7;
        break;
      case spdlog::level::info:
        p = 6;
        break;
      case spdlog::level::warn:
        p = 4;
        break;
      case spdlog::level::err:
        p = 3;
        break;
      default:
        p = 2;
    }
    dest.push_back(static_cast<char>('0' + p));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PriorityFlag>();
  }
};

// The message as the inside of a JSON string.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        dest.push_back('\\');
        dest.push_back(c);
      } else if (c == '\n') {
        dest.append(std::string_view("\\n"));
      } else if (u < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", u);
        dest.append(std::string_view(buf));
      } else {
        dest.push_back(c);
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

// Whether stderr is the journal's stream (systemd sets JOURNAL_STREAM to its device:inode).
bool StderrIsJournal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (!js) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(2, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

std::unique_ptr<spdlog::formatter> MakeFormatter() {
  bool json = g_format == "json";
  auto f = std::make_unique<spdlog::pattern_formatter>(json ? spdlog::pattern_time_type::utc
                                                            : spdlog::pattern_time_type::local);
  f->add_flag<PriorityFlag>('*');
  f->add_flag<JsonMessageFlag>('~');
  if (json)
    f->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":"%~"})");
  else if (StderrIsJournal())
    f->set_pattern("<%*>[%n] %v");  // journald stamps the time itself
  else
    f->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%n] [%^%l%$] %v");
  return f;
}

}  // namespace

std::shared_ptr<spdlog::logger> Logger(const std::string& name) {
  std::lock_guard lock(g_mu);
  if (auto l = spdlog::get(name)) return l;
  auto l = spdlog::stderr_color_mt(name);
  l->set_level(g_level);
  l->set_formatter(MakeFormatter());
  return l;
}

bool SetLogLevel(const std::string& level) {
  std::string name = level == "warning" ? "warn" : level;
  auto l = spdlog::level::from_str(name);
  // from_str gives "off" for anything it does not know.
  if (l == spdlog::level::off && name != "off") return false;
  std::lock_guard lock(g_mu);
  g_level = l;
  spdlog::set_level(g_level);
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& lg) { lg->set_level(g_level); });
  return true;
}

bool SetLogFormat(const std::string& format) {
  if (format != "text" && format != "json") return false;
  std::lock_guard lock(g_mu);
  g_format = format;
  spdlog::apply_all(
      [](const std::shared_ptr<spdlog::logger>& lg) { lg->set_formatter(MakeFormatter()); });
  return true;
}

}  // namespace learnloop
