// switchyard.yml, the whole way a step reads it: the YAML loader, the schema
// checks (unknown keys, types, ranges, duplicate keys), environments chosen
// by --env or branch, the SWITCHYARD_* variable layer and flags. Loading never
// crashes; a file that loads has every value it sets readable as its type
// (every check ran at load, not at first use); and the host settings either
// load or fail with a usage error.
//
// Input: switchyard.yml, then "\n%%\n", variable lines (NAME=VALUE), then
// "\n%%\n", flag lines (key.path=VALUE), then "\n%%\n", the environment name
// and the branch on two lines.
#include "runner/core/config.hpp"
#include "runner/core/log.hpp"
#include "runner/host/settings.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace switchyard;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  log::set_level(log::Level::Error);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = fuzz::fields(data, size, 4);
  ConfigLoadOptions options;
  options.path = fuzz::write_scratch_file("switchyard.yml", parts[0]);
  for (const auto& line : fuzz::lines(parts[1])) {
    auto equals = line.find('=');
    if (equals == std::string::npos) continue;
    options.variables[line.substr(0, equals)] = line.substr(equals + 1);
  }
  for (const auto& line : fuzz::lines(parts[2])) {
    auto equals = line.find('=');
    if (equals == std::string::npos) continue;
    // Flags name schema keys only (the step frame maps them); others are a bug.
    if (find_config_key(line.substr(0, equals)) == nullptr) continue;
    options.flags.values[line.substr(0, equals)] = line.substr(equals + 1);
  }
  auto choice = fuzz::lines(parts[3]);
  if (!choice.empty()) options.environment = choice[0];
  if (choice.size() > 1) options.branch = choice[1];

  auto config = Config::load(options);
  if (!config) {
    FUZZ_CHECK(config.error().code == ExitCode::Usage, config.error().message);
    return 0;
  }
  for (const auto& key : config_schema()) {
    if (key.path.starts_with("environments.")) continue;
    std::string path(key.path);
    bool set = config->find(path).has_value();
    switch (key.type) {
      case ConfigType::Integer: {
        auto value = config->integer(path);
        FUZZ_CHECK(!set || value.ok(), path + ": " + (value ? "" : value.error().message));
        break;
      }
      case ConfigType::Boolean: {
        auto value = config->boolean(path);
        FUZZ_CHECK(!set || value.ok(), path + ": " + (value ? "" : value.error().message));
        break;
      }
      case ConfigType::Time: {
        auto value = config->duration(path);
        FUZZ_CHECK(!set || value.ok(), path + ": " + (value ? "" : value.error().message));
        break;
      }
      case ConfigType::PortPair: {
        auto value = config->port_pair(path);
        FUZZ_CHECK(!set || value.ok(), path + ": " + (value ? "" : value.error().message));
        break;
      }
      case ConfigType::StringList:
        FUZZ_CHECK(config->string_list(path).ok(), path);
        break;
      case ConfigType::StringMap:
        FUZZ_CHECK(config->string_map(path).ok(), path);
        break;
      case ConfigType::String:
        FUZZ_CHECK(config->string(path).ok(), path);
        break;
    }
    (void)config->origin(path);
  }
  auto settings = load_host_settings(*config);
  if (!settings) {
    FUZZ_CHECK(settings.error().code == ExitCode::Usage, settings.error().message);
  }
  return 0;
}
