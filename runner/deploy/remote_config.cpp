#include "runner/deploy/remote_config.hpp"

#include <boost/json.hpp>

#include "runner/core/log.hpp"

namespace switchyard {
namespace json = boost::json;

namespace {

// The sections a host reads; the rest (build, deploy, verify,
// environments) stays on the CI side.
bool travels_to_host(std::string_view path) {
  if (path == "app") return true;
  if (path == "artifact.endpoint" || path == "artifact.region") return true;
  return path.starts_with("health.") || path.starts_with("target.");
}

// Maps whose values may be env:NAME references.
bool holds_references(std::string_view path) {
  return path == "target.environment" || path == "health.headers";
}

// Puts `value` at the dotted `path` of `root`, creating the sections.
void put_at(json::object& root, std::string_view path, json::value value) {
  json::object* section = &root;
  while (true) {
    auto dot = path.find('.');
    if (dot == std::string_view::npos) break;
    auto& next = (*section)[path.substr(0, dot)];
    if (!next.is_object()) next = json::object();
    section = &next.as_object();
    path.remove_prefix(dot + 1);
  }
  (*section)[path] = std::move(value);
}

}  // namespace

Result<RemoteConfig> resolve_remote_config(const Config& config,
                                           const std::map<std::string, std::string>& environment) {
  RemoteConfig remote;
  json::object root;
  for (const auto& path : config.keys()) {
    if (!travels_to_host(path)) continue;
    const ConfigKey* key = find_config_key(path);
    if (key == nullptr) continue;
    switch (key->type) {
      case ConfigType::StringList:
      case ConfigType::PortPair: {
        auto items = config.string_list(path);
        if (!items) return items.error();
        json::array array;
        for (const auto& item : *items)
          array.emplace_back(item);
        put_at(root, path, std::move(array));
        break;
      }
      case ConfigType::StringMap: {
        auto entries = config.string_map(path);
        if (!entries) return entries.error();
        json::object map;
        for (const auto& [name, value] : *entries) {
          std::string text = value;
          if (holds_references(path)) {
            bool secret = false;
            std::string entry = path;
            entry.append(".").append(name);
            auto resolved = resolve_env_reference(entry, value, environment, &secret);
            if (!resolved) return resolved.error();
            text = *resolved;
            if (secret) {
              add_secret(text);
              remote.secrets.push_back(text);
            }
          }
          map[name] = text;
        }
        put_at(root, path, std::move(map));
        break;
      }
      default: {
        auto text = config.string(path);
        if (!text) return text.error();
        put_at(root, path, json::string(*text));
        break;
      }
    }
  }
  remote.document = json::serialize(root);
  return remote;
}

}  // namespace switchyard
