#include "runner/core/config.hpp"

#include <fnmatch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "runner/core/log.hpp"
#include "runner/util/strings.hpp"

namespace switchyard {

const ConfigKey* find_config_key(std::string_view path) {
  for (const auto& key : config_schema()) {
    if (key.path == path) return &key;
  }
  return nullptr;
}

std::string_view config_type_name(ConfigType type) {
  switch (type) {
    case ConfigType::String:
      return "string";
    case ConfigType::Integer:
      return "integer";
    case ConfigType::Boolean:
      return "boolean (true or false)";
    case ConfigType::Time:
      return "duration (250ms, 30s, 2m, 1h30m)";
    case ConfigType::StringList:
      return "list of strings";
    case ConfigType::StringMap:
      return "map of names to strings";
    case ConfigType::PortPair:
      return "list of 2 ports";
  }
  return "value";
}

std::string config_variable_name(std::string_view path) {
  std::string name = "SWITCHYARD_";
  for (char c : path) {
    if (c == '.') {
      name += "__";
    } else {
      name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return name;
}

namespace {

constexpr std::string_view k_variable_prefix = "SWITCHYARD_";
constexpr std::string_view k_environments = "environments";
constexpr std::string_view k_branches = "branches";

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The key paths a user may write in a section: every schema key, with the
// per-environment ones (`branches`) only inside an environment.
std::vector<std::string> known_paths(bool in_environment) {
  std::vector<std::string> paths;
  for (const auto& key : config_schema()) {
    std::string_view path = key.path;
    if (path.starts_with("environments.*.")) {
      if (in_environment)
        paths.emplace_back(path.substr(std::string_view("environments.*.").size()));
      continue;
    }
    paths.emplace_back(path);
    // The sections too, so a misspelt section (`helth:`) finds `health`.
    for (auto dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.', dot + 1)) {
      std::string section(path.substr(0, dot));
      if (std::find(paths.begin(), paths.end(), section) == paths.end()) paths.push_back(section);
    }
  }
  if (!in_environment) paths.emplace_back(k_environments);
  return paths;
}

// The known path nearest to `path` by edit distance, or "" when none is close
// enough to be the likely intent.
std::string nearest(std::string_view path, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const auto& candidate : candidates) {
    std::size_t distance = edit_distance(path, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  if (best_distance > std::max<std::size_t>(2, path.size() / 3)) return "";
  return best;
}

// The key `path` was renamed to, or nullptr.
const RenamedConfigKey* renamed_key(std::string_view path) {
  for (const auto& renamed : renamed_config_keys()) {
    if (renamed.old_path == path) return &renamed;
  }
  return nullptr;
}

// True when `path` names a section (`target`), that is a prefix of keys.
bool is_section(std::string_view path) {
  for (const auto& key : config_schema()) {
    if (key.path.size() > path.size() && key.path.starts_with(path) &&
        key.path[path.size()] == '.' && !key.path.starts_with("environments.")) {
      return true;
    }
  }
  return false;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string choices_text(std::string_view choices) {
  std::string out(choices);
  std::string::size_type at = 0;
  while ((at = out.find('|', at)) != std::string::npos)
    out.replace(at, 1, ", ");
  return out;
}

// Checks one scalar against `type` (and a String's fixed `choices`, if any)
// and returns the problem, if any.
std::optional<std::string> scalar_problem(ConfigType type, std::string_view text,
                                          std::string_view choices = "") {
  switch (type) {
    case ConfigType::String: {
      if (choices.empty()) return std::nullopt;
      std::string_view rest = choices;
      while (!rest.empty()) {
        auto bar = rest.find('|');
        if (rest.substr(0, bar) == text) return std::nullopt;
        rest = bar == std::string_view::npos ? "" : rest.substr(bar + 1);
      }
      return "'" + std::string(text) + "' is not one of " + choices_text(choices);
    }
    case ConfigType::Integer:
      if (parse_integer(text)) return std::nullopt;
      return "'" + std::string(text) + "' is not a whole number";
    case ConfigType::Boolean:
      if (parse_boolean(text)) return std::nullopt;
      return "'" + std::string(text) + "' is not true or false";
    case ConfigType::Time: {
      // "'45': not a duration; write it like ..." or "'2562048h': too long; ..."
      auto parsed = parse_duration(text);
      if (parsed) return std::nullopt;
      return parsed.error().message;
    }
    default:
      return "expected a " + std::string(config_type_name(type));
  }
}

// Checks `text` (already of `type`) against a key's `range` ("100..599",
// "1ms..") and returns the problem, if any.
std::optional<std::string> range_problem(ConfigType type, std::string_view text,
                                         std::string_view range) {
  auto dots = range.find("..");
  if (range.empty() || dots == std::string_view::npos) return std::nullopt;
  std::string_view low = range.substr(0, dots);
  std::string_view high = range.substr(dots + 2);
  auto compare = [&](std::string_view bound) -> int {  // text <=> bound
    if (type == ConfigType::Integer) {
      auto value = *parse_integer(text);
      auto limit = *parse_integer(bound);
      return value < limit ? -1 : value > limit ? 1 : 0;
    }
    auto value = *parse_duration(text);
    auto limit = *parse_duration(bound);
    return value < limit ? -1 : value > limit ? 1 : 0;
  };
  bool below = !low.empty() && compare(low) < 0;
  bool above = !high.empty() && compare(high) > 0;
  if (!below && !above) return std::nullopt;
  std::string allowed = high.empty()  ? "at least " + std::string(low)
                        : low.empty() ? "at most " + std::string(high)
                                      : "from " + std::string(low) + " to " + std::string(high);
  return "'" + std::string(text) + "' is out of range; use " + allowed;
}

// Everything wrong with the scalar `text` given for `key`: its type, its
// choices, its range.
std::optional<std::string> value_problem(const ConfigKey& key, std::string_view text) {
  if (auto bad = scalar_problem(key.type, text, key.choices)) return bad;
  if (key.type == ConfigType::Integer || key.type == ConfigType::Time) {
    return range_problem(key.type, text, key.range);
  }
  return std::nullopt;
}

// Checks the two entries of a PortPair.
std::optional<std::string> ports_problem(const std::vector<std::string>& ports) {
  if (ports.size() != 2) return "expected a list of 2 ports";
  for (const auto& port : ports) {
    auto number = parse_integer(port);
    if (!number || *number < 1 || *number > 65535) {
      return "expected a list of 2 ports; '" + port + "' is not a port (1-65535)";
    }
  }
  if (*parse_integer(ports[0]) == *parse_integer(ports[1])) {
    return "expected a list of 2 ports; both are " + ports[0] + ", use two different ports";
  }
  return std::nullopt;
}

// "[a, b]" (YAML flow) or "a,b"; "" is the empty list.
std::optional<std::vector<std::string>> split_list(std::string_view text) {
  std::vector<std::string> items;
  std::string trimmed(trim(text));
  if (trimmed.empty()) return items;
  if (trimmed.front() == '[') {
    try {
      YAML::Node node = YAML::Load(trimmed);
      if (!node.IsSequence()) return std::nullopt;
      for (const auto& item : node) {
        if (!item.IsScalar()) return std::nullopt;
        items.push_back(item.Scalar());
      }
      return items;
    } catch (const YAML::Exception&) {
      return std::nullopt;
    }
  }
  std::size_t start = 0;
  while (start <= trimmed.size()) {
    auto comma = trimmed.find(',', start);
    if (comma == std::string::npos) comma = trimmed.size();
    items.emplace_back(trim(std::string_view(trimmed).substr(start, comma - start)));
    start = comma + 1;
  }
  return items;
}

}  // namespace

std::optional<bool> parse_boolean(std::string_view text) {
  std::string value = to_lower(text);
  if (value == "true" || value == "yes" || value == "on" || value == "1") return true;
  if (value == "false" || value == "no" || value == "off" || value == "0") return false;
  return std::nullopt;
}

// Reads switchyard.yml, the variables and the flags into one Config.
class ConfigLoader {
 public:
  explicit ConfigLoader(const ConfigLoadOptions& options) : m_options(options) {}

  Result<Config> load() {
    Config config;
    Layer top;
    std::vector<std::pair<std::string, Layer>> environments;
    std::map<std::string, std::vector<std::string>> branches;

    // Read and validate the file, every environment included.
    auto root = read_file();
    if (!root) return root.error();
    if (auto unique = refuse_duplicate_keys(*root, ""); !unique) return unique.error();
    if (root->IsDefined() && !root->IsNull()) {
      if (!root->IsMap()) {
        return usage_error(m_name + ":" + std::to_string(root->Mark().line + 1) +
                           ": expected a map of keys at the top level; see docs/CONFIG.md");
      }
      for (auto it = root->begin(); it != root->end(); ++it) {
        if (it->first.IsScalar() && it->first.Scalar() == k_environments) {
          auto read = read_environments(it->first, it->second, environments, branches);
          if (!read) return read.error();
          continue;
        }
        auto read = read_entry(it->first, it->second, "", "", false, top);
        if (!read) return read.error();
      }
    }
    for (const auto& [name, layer] : environments)
      config.m_environments.push_back(name);

    // Choose the environment: --env, else the first whose branches match.
    if (!m_options.environment.empty()) {
      if (std::find(config.m_environments.begin(), config.m_environments.end(),
                    m_options.environment) == config.m_environments.end()) {
        return unknown_environment(config.m_environments);
      }
      config.m_environment = m_options.environment;
    } else if (!m_options.branch.empty()) {
      for (const auto& name : config.m_environments) {
        for (const auto& pattern : branches[name]) {
          if (::fnmatch(pattern.c_str(), m_options.branch.c_str(), 0) == 0) {
            config.m_environment = name;
            break;
          }
        }
        if (!config.m_environment.empty()) break;
      }
    }

    // Apply the layers, lowest precedence first.
    Layer values;
    merge(values, top);
    for (const auto& [name, layer] : environments) {
      if (name == config.m_environment) merge(values, layer);
    }
    auto variables = read_variables(config.m_warnings);
    if (!variables) return variables.error();
    merge(values, *variables);
    auto flags = read_flags();
    if (!flags) return flags.error();
    merge(values, *flags);

    for (const auto& warning : config.m_warnings)
      log::warn("{}", warning);
    config.m_values = std::move(values);
    return config;
  }

 private:
  using Value = Config::Value;
  using Layer = std::map<std::string, Value, std::less<>>;

  Result<YAML::Node> read_file() {
    if (m_options.document) {
      m_name = "--config -";
      try {
        return YAML::Load(*m_options.document);
      } catch (const YAML::ParserException& e) {
        return usage_error(m_name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg +
                           "; send the resolved configuration as YAML or JSON");
      }
    }
    std::filesystem::path path = m_options.path;
    if (path.empty()) {
      m_name = "switchyard.yml";
      if (!std::filesystem::exists(m_name)) return YAML::Node();
      path = m_name;
    } else {
      m_name = path.string();
      std::error_code error;
      if (!std::filesystem::is_regular_file(path, error)) {
        return usage_error(m_name +
                           ": not found; pass --config PATH or create it (see docs/CONFIG.md)");
      }
    }
    try {
      return YAML::LoadFile(path.string());
    } catch (const YAML::ParserException& e) {
      return usage_error(m_name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg +
                         "; fix the YAML (or JSON) syntax");
    } catch (const YAML::BadFile&) {
      return usage_error(m_name + ": cannot be read; check its permissions");
    }
  }

  // YAML parsers disagree on a key written twice in one map (yaml-cpp keeps
  // both, a lookup finds the first, our reading let the last win), so a
  // repeated key is an error naming both lines, in every map of the file.
  // `depth` bounds the walk: an alias inside its own anchor makes the node
  // graph a cycle (found by the config fuzz target as a stack overflow), and
  // no switchyard.yml nests anywhere near 32 levels.
  Result<void> refuse_duplicate_keys(const YAML::Node& node, const std::string& path,
                                     int depth = 0) const {
    if (depth > 32) {
      return usage_error(where(node) + ": " + path +
                         ": nested too deep (an alias inside its own anchor?); see docs/CONFIG.md");
    }
    if (node.IsSequence()) {
      for (const auto& item : node) {
        if (auto unique = refuse_duplicate_keys(item, path, depth + 1); !unique) return unique;
      }
      return {};
    }
    if (!node.IsMap()) return {};
    std::map<std::string, int> first_line;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) continue;  // read_entry names that error
      const std::string& name = it->first.Scalar();
      std::string key_path = path.empty() ? name : path + "." + name;
      int line = it->first.Mark().line + 1;
      auto [seen, inserted] = first_line.emplace(name, line);
      if (!inserted) {
        std::string lines = seen->second == line ? "on line " + std::to_string(line)
                                                 : "(lines " + std::to_string(seen->second) +
                                                       " and " + std::to_string(line) + ")";
        return usage_error(m_name + ":" + std::to_string(line) + ": " + key_path + ": set twice " +
                           lines + "; keep one");
      }
      if (auto unique = refuse_duplicate_keys(it->second, key_path, depth + 1); !unique) {
        return unique;
      }
    }
    return {};
  }

  std::string where(const YAML::Node& node) const {
    return m_name + ":" + std::to_string(node.Mark().line + 1);
  }

  Error unknown_key(const YAML::Node& key_node, const std::string& shown_prefix,
                    const std::string& path, bool in_environment) const {
    std::string message = where(key_node) + ": " + shown_prefix + path + ": unknown key; ";
    std::string suggestion = nearest(path, known_paths(in_environment));
    if (!suggestion.empty())
      return usage_error(message + "did you mean " + shown_prefix + suggestion + "?");
    return usage_error(message + "see docs/CONFIG.md for the keys switchyard.yml may hold");
  }

  Error unknown_environment(const std::vector<std::string>& names) const {
    std::string message = "--env " + m_options.environment + ": no such environment in " + m_name;
    if (names.empty()) return usage_error(message + "; it defines no environments section");
    std::string list;
    for (const auto& name : names)
      list += (list.empty() ? "" : ", ") + name;
    return usage_error(message + "; choose one of: " + list);
  }

  // One `key: value` of a section: a known key, a nested section, or an error.
  Result<void> read_entry(const YAML::Node& key_node, const YAML::Node& value,
                          const std::string& prefix, const std::string& shown_prefix,
                          bool in_environment, Layer& layer) {
    if (!key_node.IsScalar()) {
      return usage_error(where(key_node) + ": " + shown_prefix + prefix +
                         ": expected a key name; see docs/CONFIG.md");
    }
    std::string path = prefix.empty() ? key_node.Scalar() : prefix + "." + key_node.Scalar();
    if (const ConfigKey* key = find_config_key(path)) {
      return read_value(*key, key_node, value, shown_prefix + path, layer);
    }
    if (const RenamedConfigKey* renamed = renamed_key(path)) {
      return usage_error(where(key_node) + ": " + shown_prefix + path + ": renamed to " +
                         std::string(renamed->new_path) + "; rename the key (see CHANGELOG.md)");
    }
    if (is_section(path)) {
      if (value.IsNull()) return {};
      if (!value.IsMap()) {
        return usage_error(where(key_node) + ": " + shown_prefix + path +
                           ": expected a section of keys; see docs/CONFIG.md");
      }
      for (auto it = value.begin(); it != value.end(); ++it) {
        auto read = read_entry(it->first, it->second, path, shown_prefix, in_environment, layer);
        if (!read) return read;
      }
      return {};
    }
    return unknown_key(key_node, shown_prefix, path, in_environment);
  }

  Result<void> read_environments(const YAML::Node& key_node, const YAML::Node& value,
                                 std::vector<std::pair<std::string, Layer>>& environments,
                                 std::map<std::string, std::vector<std::string>>& branches) {
    if (value.IsNull()) return {};
    if (!value.IsMap()) {
      return usage_error(where(key_node) +
                         ": environments: expected a map of environment names to sections");
    }
    const ConfigKey& branches_key = *find_config_key("environments.*.branches");
    for (auto env = value.begin(); env != value.end(); ++env) {
      if (!env->first.IsScalar()) {
        return usage_error(where(env->first) + ": environments: expected an environment name");
      }
      std::string name = env->first.Scalar();
      std::string shown = "environments." + name + ".";
      Layer layer;
      if (!env->second.IsNull() && !env->second.IsMap()) {
        return usage_error(where(env->first) + ": environments." + name +
                           ": expected a section of keys");
      }
      for (auto it = env->second.begin(); env->second.IsMap() && it != env->second.end(); ++it) {
        if (it->first.IsScalar() && it->first.Scalar() == k_branches) {
          Layer branch_layer;
          auto read =
              read_value(branches_key, it->first, it->second, shown + "branches", branch_layer);
          if (!read) return read;
          if (!branch_layer.empty()) branches[name] = branch_layer.begin()->second.list;
          continue;
        }
        auto read = read_entry(it->first, it->second, "", shown, true, layer);
        if (!read) return read;
      }
      environments.emplace_back(name, std::move(layer));
    }
    return {};
  }

  // Converts the YAML `value` of `key` (written at `key_node`) into the layer.
  Result<void> read_value(const ConfigKey& key, const YAML::Node& key_node, const YAML::Node& value,
                          const std::string& shown_path, Layer& layer) {
    if (value.IsNull()) return {};  // `key:` with nothing after it leaves it unset
    Value out;
    out.origin = where(key_node);
    auto problem = [&](const std::string& text) {
      return usage_error(out.origin + ": " + shown_path + ": " + text);
    };
    switch (key.type) {
      case ConfigType::StringList:
      case ConfigType::PortPair: {
        if (!value.IsSequence())
          return problem("expected a " + std::string(config_type_name(key.type)));
        for (const auto& item : value) {
          if (!item.IsScalar())
            return problem("expected a " + std::string(config_type_name(key.type)));
          out.list.push_back(item.Scalar());
        }
        if (key.type == ConfigType::PortPair) {
          if (auto bad = ports_problem(out.list)) return problem(*bad);
        }
        break;
      }
      case ConfigType::StringMap: {
        if (!value.IsMap()) return problem("expected a map of names to strings");
        for (auto it = value.begin(); it != value.end(); ++it) {
          if (!it->first.IsScalar() || !(it->second.IsScalar() || it->second.IsNull())) {
            return problem("expected a map of names to strings");
          }
          out.map[it->first.Scalar()] = it->second.IsNull() ? "" : it->second.Scalar();
        }
        break;
      }
      default: {
        if (!value.IsScalar())
          return problem("expected a " + std::string(config_type_name(key.type)));
        if (auto bad = value_problem(key, value.Scalar())) return problem(*bad);
        out.scalar = value.Scalar();
        break;
      }
    }
    layer[std::string(key.path)] = std::move(out);
    return {};
  }

  // Converts a value given as text (a variable or a flag) for `key`.
  static Result<Value> value_from_text(const ConfigKey& key, std::string_view text,
                                       const std::string& origin) {
    Value out;
    out.origin = origin;
    auto problem = [&](const std::string& message) {
      return usage_error(origin + ": " + std::string(key.path) + ": " + message);
    };
    switch (key.type) {
      case ConfigType::StringList:
      case ConfigType::PortPair: {
        auto items = split_list(text);
        if (!items) {
          return problem("expected a " + std::string(config_type_name(key.type)) +
                         ", written [a, b] or a,b");
        }
        out.list = std::move(*items);
        if (key.type == ConfigType::PortPair) {
          if (auto bad = ports_problem(out.list)) return problem(*bad);
        }
        break;
      }
      case ConfigType::StringMap:
        return problem("set one entry per variable instead, e.g. " +
                       config_variable_name(key.path) + "__NAME=value");
      default:
        if (auto bad = value_problem(key, text)) return problem(*bad);
        out.scalar = std::string(text);
        break;
    }
    return out;
  }

  // SWITCHYARD_TARGET__DRAIN_TIMEOUT=45s -> target.drain_timeout. A variable
  // for a map key sets one entry: SWITCHYARD_TARGET__ENVIRONMENT__JAVA_OPTS.
  Result<Layer> read_variables(std::vector<std::string>& warnings) const {
    Layer layer;
    if (m_options.document) return layer;  // --config -: exactly what was sent
    for (const auto& [name, text] : m_options.variables) {
      if (!name.starts_with(k_variable_prefix)) continue;
      std::string_view rest = std::string_view(name).substr(k_variable_prefix.size());
      std::vector<std::string_view> segments;
      for (std::size_t start = 0;;) {
        auto split = rest.find("__", start);
        segments.push_back(
            rest.substr(start, split == std::string_view::npos ? split : split - start));
        if (split == std::string_view::npos) break;
        start = split + 2;
      }
      std::string path;
      for (const auto& segment : segments)
        path += (path.empty() ? "" : ".") + to_lower(segment);

      if (const RenamedConfigKey* renamed = renamed_key(path)) {
        return usage_error(name + ": renamed to " + std::string(renamed->new_path) + "; set " +
                           config_variable_name(renamed->new_path) + " instead");
      }
      // A variable naming a key sets it; a map key below the top level takes
      // one entry per variable instead (below).
      const ConfigKey* key = find_config_key(path);
      if (key && (segments.size() == 1 || key->type != ConfigType::StringMap)) {
        auto value = value_from_text(*key, text, name);
        if (!value) return value.error();
        layer[path] = std::move(*value);
        continue;
      }
      // Without `__` only a top-level key (SWITCHYARD_APP) is configuration;
      // SWITCHYARD_LOG, SWITCHYARD_OUTPUT_FILE and friends are not.
      if (segments.size() == 1) continue;
      bool matched = false;
      std::string prefix;
      for (std::size_t i = 0; i + 1 < segments.size() && !matched; ++i) {
        prefix += (prefix.empty() ? "" : ".") + to_lower(segments[i]);
        const ConfigKey* map_key = find_config_key(prefix);
        if (map_key == nullptr || map_key->type != ConfigType::StringMap) continue;
        std::string entry;
        for (std::size_t j = i + 1; j < segments.size(); ++j) {
          entry += (entry.empty() ? "" : "__") + std::string(segments[j]);
        }
        auto& value = layer[prefix];
        value.map[entry] = text;
        value.origin = name;
        matched = true;
      }
      if (matched) continue;
      std::string warning = name + ": names no switchyard.yml key (" + path + "); ignored";
      std::string suggestion = nearest(path, known_paths(false));
      if (!suggestion.empty() && suggestion != k_environments) {
        warning += "; did you mean " + config_variable_name(suggestion) + "?";
      }
      warnings.push_back(std::move(warning));
    }
    return layer;
  }

  Result<Layer> read_flags() const {
    Layer layer;
    auto key_of = [](const std::string& path) -> Result<const ConfigKey*> {
      const ConfigKey* key = find_config_key(path);
      if (key == nullptr) {
        return usage_error("flag for " + path + ": no such configuration key (a switchyard bug)");
      }
      return key;
    };
    for (const auto& [path, text] : m_options.flags.values) {
      auto key = key_of(path);
      if (!key) return key.error();
      auto value = value_from_text(**key, text, flag_name(path));
      if (!value) return value.error();
      layer[path] = std::move(*value);
    }
    // A list or map flag's value, still empty, once its key is of that `type`.
    auto collection_of = [&](const std::string& path, ConfigType type,
                             std::string_view kind) -> Result<Value> {
      auto key = key_of(path);
      if (!key) return key.error();
      if ((*key)->type != type) {
        return usage_error("flag for " + path + ": not a " + std::string(kind) +
                           " key (a switchyard bug)");
      }
      Value value;
      value.origin = flag_name(path);
      return value;
    };
    for (const auto& [path, items] : m_options.flags.lists) {
      auto value = collection_of(path, ConfigType::StringList, "list");
      if (!value) return value.error();
      value->list = items;
      layer[path] = std::move(*value);
    }
    for (const auto& [path, entries] : m_options.flags.maps) {
      auto value = collection_of(path, ConfigType::StringMap, "map");
      if (!value) return value.error();
      value->map = entries;
      layer[path] = std::move(*value);
    }
    return layer;
  }

  // How messages name the flag for `path`: as the step registered it, else
  // "--" and the key's last segment with dashes (--drain-timeout).
  std::string flag_name(const std::string& path) const {
    if (auto it = m_options.flags.names.find(path); it != m_options.flags.names.end()) {
      return it->second;
    }
    std::string flag =
        "--" + path.substr(path.rfind('.') == std::string::npos ? 0 : path.rfind('.') + 1);
    std::replace(flag.begin(), flag.end(), '_', '-');
    return flag;
  }

  // Lays `from` over `into`: scalars and lists are replaced, maps merged by entry.
  static void merge(Layer& into, const Layer& from) {
    for (const auto& [path, value] : from) {
      auto it = into.find(path);
      if (it == into.end() || value.map.empty()) {
        into[path] = value;
        continue;
      }
      for (const auto& [name, text] : value.map)
        it->second.map[name] = text;
      it->second.origin = value.origin;
    }
  }

  const ConfigLoadOptions& m_options;
  std::string m_name;  // the file as messages name it
};

Result<Config> Config::load(const ConfigLoadOptions& options) {
  return ConfigLoader(options).load();
}

std::optional<std::string> Config::find(std::string_view key) const {
  auto it = m_values.find(key);
  if (it == m_values.end()) return std::nullopt;
  const Value& value = it->second;
  const ConfigKey* schema_key = find_config_key(key);
  if (schema_key == nullptr) return value.scalar;
  switch (schema_key->type) {
    case ConfigType::StringList:
    case ConfigType::PortPair: {
      std::string out;
      for (const auto& item : value.list) {
        if (!out.empty()) out += ',';
        out += item;
      }
      return out;
    }
    case ConfigType::StringMap: {
      std::string out;
      for (const auto& [name, text] : value.map) {
        if (!out.empty()) out += ',';
        out.append(name).append("=").append(text);
      }
      return out;
    }
    default:
      return value.scalar;
  }
}

std::vector<std::string> Config::keys() const {
  std::vector<std::string> keys;
  for (const auto& [path, value] : m_values)
    keys.push_back(path);
  return keys;
}

Result<std::string> resolve_env_reference(std::string_view key, std::string_view value,
                                          const std::map<std::string, std::string>& environment,
                                          bool* was_reference) {
  if (was_reference != nullptr) *was_reference = false;
  if (!value.starts_with("env:")) return std::string(value);
  std::string name(value.substr(4));
  auto it = environment.find(name);
  if (name.empty() || it == environment.end()) {
    return usage_error(std::string(key) + ": env:" + name + ": variable " + name +
                       " is not set; set it (a CI secret) where the deploy is requested");
  }
  if (was_reference != nullptr) *was_reference = true;
  return it->second;
}

std::string Config::origin(std::string_view key) const {
  auto it = m_values.find(key);
  return it == m_values.end() ? "default" : it->second.origin;
}

namespace {

Error unknown_config_key(std::string_view key) {
  return failure(
      "config: " + std::string(key) +
      ": not in the configuration schema; this is a bug in switchyard, please report it");
}

Error not_set(std::string_view key) {
  return usage_error(std::string(key) + ": not set; add it to switchyard.yml or set " +
                     config_variable_name(key));
}

// The text of `key` (after precedence, else its default), checked to read as
// a `type`: unset or malformed, it fails naming where the value came from.
Result<std::string> typed_text(const Config& config, std::string_view key, ConfigType type) {
  auto text = config.string(key);
  if (!text) return text.error();
  if (text->empty()) return not_set(key);
  if (auto bad = scalar_problem(type, *text)) {
    return usage_error(config.origin(key) + ": " + std::string(key) + ": " + *bad);
  }
  return text;
}

}  // namespace

Result<std::string> Config::string(std::string_view key) const {
  const ConfigKey* schema_key = find_config_key(key);
  if (schema_key == nullptr) return unknown_config_key(key);
  auto it = m_values.find(key);
  if (it != m_values.end()) return it->second.scalar;
  return std::string(schema_key->default_value);
}

Result<std::int64_t> Config::integer(std::string_view key) const {
  auto text = typed_text(*this, key, ConfigType::Integer);
  if (!text) return text.error();
  return *parse_integer(*text);
}

Result<bool> Config::boolean(std::string_view key) const {
  auto text = typed_text(*this, key, ConfigType::Boolean);
  if (!text) return text.error();
  return *parse_boolean(*text);
}

Result<Duration> Config::duration(std::string_view key) const {
  auto text = typed_text(*this, key, ConfigType::Time);
  if (!text) return text.error();
  return *parse_duration(*text);
}

Result<std::vector<std::string>> Config::string_list(std::string_view key) const {
  const ConfigKey* schema_key = find_config_key(key);
  if (schema_key == nullptr) return unknown_config_key(key);
  auto it = m_values.find(key);
  if (it != m_values.end()) return it->second.list;
  if (schema_key->default_value.empty()) return std::vector<std::string>();
  auto items = split_list(schema_key->default_value);
  if (!items) return unknown_config_key(key);
  return *items;
}

Result<std::map<std::string, std::string>> Config::string_map(std::string_view key) const {
  const ConfigKey* schema_key = find_config_key(key);
  if (schema_key == nullptr) return unknown_config_key(key);
  auto it = m_values.find(key);
  if (it != m_values.end()) return it->second.map;
  return std::map<std::string, std::string>();
}

Result<std::pair<int, int>> Config::port_pair(std::string_view key) const {
  auto items = string_list(key);
  if (!items) return items.error();
  if (items->empty()) return not_set(key);
  if (auto bad = ports_problem(*items)) {
    return usage_error(origin(key) + ": " + std::string(key) + ": " + *bad);
  }
  return std::pair<int, int>(static_cast<int>(*parse_integer((*items)[0])),
                             static_cast<int>(*parse_integer((*items)[1])));
}

}  // namespace switchyard
