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

// The flag layer: what the command line says about configuration keys, by
// key path. Steps fill it through add_config_flag (cli/step), so precedence
// is this file's alone.
struct ConfigFlags {
  ConfigFlags() = default;
  ConfigFlags(std::map<std::string, std::string> scalars) : values(std::move(scalars)) {}

  // key path -> text; a list key reads it as a list ([a, b] or a,b).
  std::map<std::string, std::string> values;
  // A repeatable flag for a list key, one item per occurrence, taken as given
  // (--expect-json A --expect-json B); it replaces the list.
  std::map<std::string, std::vector<std::string>> lists;
  // A repeatable flag for a map key, one entry per occurrence (--header); the
  // entries are laid over the other layers' entry by entry.
  std::map<std::string, std::map<std::string, std::string>> maps;
  // How messages name the flag that set a key ("--project" for
  // build.project_dir); unnamed, it is "--" and the key's last segment.
  std::map<std::string, std::string> names;

  bool empty() const { return values.empty() && lists.empty() && maps.empty(); }
};

struct ConfigLoadOptions {
  // The file; empty means "./switchyard.yml if it exists, else defaults only".
  std::filesystem::path path;
  // The environment by name (--env); empty means "pick by `branch`".
  std::string environment;
  // The branch (GITHUB_REF_NAME, BRANCH_NAME, or git) for environment choice.
  std::string branch;
  // The process environment: SWITCHYARD_TARGET__DRAIN_TIMEOUT=45s and friends.
  std::map<std::string, std::string> variables;
  // Values given as flags; they win over everything.
  ConfigFlags flags;
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

// A key switchyard.yml used to have and its new name: the old one is refused
// (in the file and as a variable), since silently ignoring it changes behaviour.
struct RenamedConfigKey {
  std::string_view old_path;  // "build.version"
  std::string_view new_path;  // "build.release_template"
};
const std::vector<RenamedConfigKey>& renamed_config_keys();

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
