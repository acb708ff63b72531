#include "runner/ci.hpp"

#include <unistd.h>

#include <cstdio>
#include <mutex>

#include "runner/log.hpp"

extern char** environ;

namespace switchyard {
namespace {

// Plain lines on stderr: the fallback every other adapter builds on.
class PlainAdapter : public CiAdapter {
 public:
  CiKind kind() const override { return CiKind::Plain; }
  void begin_group(std::string_view name) override { log::info("== {}", name); }
  void end_group() override {}
  void annotate_error(std::string_view /*title*/, std::string_view message) override {
    log::write(log::Level::Error, message);
  }
  void set_output(std::string_view /*key*/, std::string_view /*value*/) override {}
  void add_summary(std::string_view /*markdown*/) override {}
  void mask(std::string_view /*secret*/) override {}
  void progress(std::string_view label, std::uint64_t done, std::uint64_t total) override {
    if (total == 0) return;
    log::info("{}: {}%", label, done * 100 / total);
  }
};

std::unique_ptr<CiAdapter>& current() {
  static std::unique_ptr<CiAdapter> adapter;
  return adapter;
}

}  // namespace

std::map<std::string, std::string> current_environment() {
  std::map<std::string, std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    auto eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return out;
}

std::unique_ptr<CiAdapter> detect_ci(const std::map<std::string, std::string>& /*environment*/) {
  return std::make_unique<PlainAdapter>();
}

CiAdapter& ci() {
  auto& adapter = current();
  if (!adapter) adapter = detect_ci(current_environment());
  return *adapter;
}

void set_ci(std::unique_ptr<CiAdapter> adapter) {
  current() = std::move(adapter);
}

}  // namespace switchyard
