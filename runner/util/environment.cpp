#include "runner/util/environment.hpp"

#include <string_view>

extern char** environ;

namespace switchyard {

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

std::string environment_value(const std::map<std::string, std::string>& environment,
                              const std::string& name) {
  auto it = environment.find(name);
  return it == environment.end() ? "" : it->second;
}

}  // namespace switchyard
