// switchyard.yml: one configuration for every CI system (DESIGN.md,
// "Configuration"). Precedence: flag > environment variable > the chosen
// environment's section > top level > default.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// The kind of value a known key holds (Time: a duration such as 30s); the schema
// (config_schema.cpp) lists every key, so an unknown key is an error with a suggestion. PortPair: a
// list of two distinct TCP ports ("[8081, 8082]").
enum class ConfigType { String, Integer, Boolean, Time, StringList, StringMap, PortPair };

struct ConfigKey {
  std::string_view path;  // "target.drain_timeout"; "environments.*.branches"
  ConfigType type;
  std::string_view default_value;  // as a user would write it; "" for none
  std::string_view help;           // one line, for docs/CONFIG.md and errors
  // For a String key with a fixed set of values: "auto|maven|gradle|command".
  std::string_view choices = "";
  // For an Integer or Time key, the values it may take, either end open:
  // "100..599", "1ms.." (more than nothing). Checked wherever the value comes
  // from, so every step refuses what one of them would.
  std::string_view range = "";
};

// The schema row for `path`, or nullptr when no key has that path.
const ConfigKey* find_config_key(std::string_view path);

// How a type reads in messages and docs: "a duration (250ms, 30s, 2m)".
std::string_view config_type_name(ConfigType type);

// The environment variable that sets `path`: target.drain_timeout ->
// SWITCHYARD_TARGET__DRAIN_TIMEOUT.
std::string config_variable_name(std::string_view path);

// Every key switchyard.yml may hold (top level and per environment).
const std::vector<ConfigKey>& config_schema();

// A Boolean value as switchyard.yml may write it: true/false, yes/no, on/off or
// 1/0, in any case; none for anything else.
std::optional<bool> parse_boolean(std::string_view text);

struct ConfigLoadOptions {
  // The file; empty means "./switchyard.yml if it exists, else defaults only".
  std::filesystem::path path;
  // The environment by name (--env); empty means "pick by `branch`".
  std::string environment;
  // The branch (GITHUB_REF_NAME, BRANCH_NAME, or git) for environment choice.
  std::string branch;
  // The process environment: SWITCHYARD_TARGET__DRAIN_TIMEOUT=45s and friends.
  std::map<std::string, std::string> variables;
  // Values given as flags, by key path; they win over everything.
  std::map<std::string, std::string> flags;
  // `--config -`: the resolved configuration itself (YAML or JSON, read from
  // stdin by the caller). With it, `path`, ./switchyard.yml and `variables`
  // are not read: what runs is exactly what the sender resolved
  // (request-deploy sends it to a host over ssh).
  std::optional<std::string> document;
};

// The value behind `value` when it is a reference `env:NAME` to variable NAME
// of `environment`; `value` itself otherwise. A reference to an unset
// variable fails (exit 2) naming `key`. The caller registers the result as a
// secret when it was a reference (`*was_reference`).
Result<std::string> resolve_env_reference(std::string_view key, std::string_view value,
                                          const std::map<std::string, std::string>& environment,
                                          bool* was_reference = nullptr);

class Config {
 public:
  // Reads and validates the file: unknown keys, wrong types and bad
  // durations fail with "switchyard.yml:12: target.drain_timout: unknown key;
  // did you mean target.drain_timeout?" (exit 2).
  static Result<Config> load(const ConfigLoadOptions& options);

  // The chosen environment ("" when none was chosen or none matched).
  const std::string& environment() const { return m_environment; }

  // The raw value of `key` after precedence, if set anywhere (defaults excluded).
  std::optional<std::string> find(std::string_view key) const;

  // Typed lookups; the default is the schema's unless given. A value of the
  // wrong shape fails naming where it came from (file:line, variable, flag).
  Result<std::string> string(std::string_view key) const;
  Result<std::int64_t> integer(std::string_view key) const;
  Result<bool> boolean(std::string_view key) const;
  Result<Duration> duration(std::string_view key) const;
  Result<std::vector<std::string>> string_list(std::string_view key) const;
  Result<std::map<std::string, std::string>> string_map(std::string_view key) const;
  Result<std::pair<int, int>> port_pair(std::string_view key) const;

  // Where `key` was set, for messages: "switchyard.yml:12", "SWITCHYARD_X", "--flag", "default".
  std::string origin(std::string_view key) const;

  // Every key set anywhere (defaults excluded), in path order.
  std::vector<std::string> keys() const;

  // The names of the environments the file defines, in file order.
  const std::vector<std::string>& environments() const { return m_environments; }

  // What load() warned about (also logged): SWITCHYARD_A__B naming no known key.
  const std::vector<std::string>& warnings() const { return m_warnings; }

 private:
  struct Value {
    std::string scalar;                      // scalar keys
    std::vector<std::string> list;           // StringList
    std::map<std::string, std::string> map;  // StringMap
    std::string origin;
  };
  friend class ConfigLoader;
  std::map<std::string, Value, std::less<>> m_values;  // after precedence
  std::string m_environment;
  std::vector<std::string> m_environments;
  std::vector<std::string> m_warnings;
};

}  // namespace switchyard
