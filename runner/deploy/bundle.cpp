#include "runner/deploy/bundle.hpp"

#include <zip.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <memory>

namespace switchyard {
namespace {

namespace fs = std::filesystem;

// Shared by the hooks: reads switchyard/hook-settings (KEY=VALUE lines,
// never evaluated), and the instance's env file (NAME=VALUE lines, exported
// without evaluation). The CodeDeploy agent runs each hook from the
// deployment archive with LIFECYCLE_EVENT, DEPLOYMENT_ID, APPLICATION_NAME
// and DEPLOYMENT_GROUP_NAME set.
constexpr std::string_view k_common_sh =
    R"sh(# switchyard's CodeDeploy hooks: shared helpers (sourced, not run).
archive=$(cd "$(dirname "$0")/.." && pwd)
event=${LIFECYCLE_EVENT:-hook}
PATH=$PATH:/usr/local/bin:/usr/bin:/bin
export PATH

fail() {
  echo "$event: $*" >&2
  exit 1
}

# Reads the settings switchyard wrote into the bundle, one KEY=VALUE a line.
load_settings() {
  settings_file=$archive/switchyard/hook-settings
  [ -r "$settings_file" ] || fail "$settings_file: missing from the revision; rebuild it with switchyard-request-deploy"
  while IFS= read -r line || [ -n "$line" ]; do
    key=${line%%=*}
    value=${line#*=}
    case $key in
      release) release=$value ;;
      sha256) sha256=$value ;;
      jar) jar=$value ;;
      stage_dir) stage_dir=$value ;;
      env_file) env_file=$value ;;
      env_names) env_names=$value ;;
      validate_url) validate_url=$value ;;
      app_version) app_version=$value ;;
      health_timeout) health_timeout=$value ;;
      min_version) min_version=$value ;;
    esac
  done <"$settings_file"
}

# Exports NAME=VALUE lines from the instance's env file (mode 0600), so the
# env:NAME references in the staged configuration resolve. Nothing in it is
# evaluated, and no value is printed.
load_env_file() {
  if [ ! -e "$env_file" ]; then
    [ -z "$env_names" ] && return 0
    fail "$env_file: missing; create it (mode 0600) with NAME=VALUE lines for:$env_names"
  fi
  mode=$(stat -c %a "$env_file")
  case $mode in
    600 | 400) ;;
    *) fail "$env_file: mode $mode lets others read secrets; run chmod 600 $env_file" ;;
  esac
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      '' | '#'*) continue ;;
    esac
    name=${line%%=*}
    case $name in
      '' | [0-9]* | *[!A-Za-z0-9_]*) fail "$env_file: a line is not NAME=VALUE; fix it (values are not shown)" ;;
    esac
    export "$line"
  done <"$env_file"
}
)sh";

constexpr std::string_view k_before_install_sh = R"sh(#!/bin/sh
# BeforeInstall: switchyard is installed and new enough, and every env:NAME
# the configuration refers to is set in the instance's env file.
set -eu
. "$(dirname "$0")/common.sh"
load_settings

command -v switchyard-switch-traffic >/dev/null 2>&1 ||
  fail "switchyard-switch-traffic: not found on PATH ($PATH); install switchyard $min_version or newer on this instance"
command -v switchyard-verify-health >/dev/null 2>&1 ||
  fail "switchyard-verify-health: not found on PATH ($PATH); install switchyard $min_version or newer on this instance"
installed=$(switchyard-switch-traffic --version | awk '{print $NF}')
oldest=$(printf '%s\n%s\n' "$installed" "$min_version" | sort -V | head -n 1)
[ "$oldest" = "$min_version" ] ||
  fail "switchyard $installed: too old for this revision; install switchyard $min_version or newer on this instance"

load_env_file
for name in $env_names; do
  printenv "$name" >/dev/null 2>&1 ||
    fail "env:$name: not set in $env_file; add $name=... there (mode 0600)"
done
echo "$event: switchyard $installed ready for release $release"
)sh";

constexpr std::string_view k_application_start_sh = R"sh(#!/bin/sh
# ApplicationStart: the zero-downtime switch on this instance. The old
# version keeps serving until the new one is healthy; a failure leaves it
# serving and fails this hook.
set -eu
. "$(dirname "$0")/common.sh"
load_settings
load_env_file
exec switchyard-switch-traffic --artifact "$stage_dir/$jar" --sha256 "$sha256" \
  --release "$release" --config "$stage_dir/switchyard.yml"
)sh";

constexpr std::string_view k_validate_service_sh = R"sh(#!/bin/sh
# ValidateService: this instance's own nginx answers healthy with the new
# version (a load balancer's URL would answer from other instances).
set -eu
. "$(dirname "$0")/common.sh"
load_settings
load_env_file
if [ -n "$app_version" ]; then
  exec switchyard-verify-health "$validate_url" --expect-version "$app_version" \
    --timeout "$health_timeout" --config "$stage_dir/switchyard.yml"
fi
exec switchyard-verify-health "$validate_url" --timeout "$health_timeout" \
  --config "$stage_dir/switchyard.yml"
)sh";

// Sections that mean nothing on the instance.
bool instance_key(std::string_view path) {
  return path.find('*') == std::string_view::npos && !path.starts_with("deploy.") &&
         !path.starts_with("build.") && !path.starts_with("environments.");
}

void note_reference(std::string_view value, std::vector<std::string>& names) {
  if (!value.starts_with("env:")) return;
  std::string name(value.substr(4));
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

bool is_variable_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string duration_text(Duration duration) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::chrono::seconds whole_seconds_up(Duration duration) {
  return std::chrono::ceil<std::chrono::seconds>(duration);
}

std::string hook_settings(const BundleInput& input) {
  std::string names;
  for (const auto& name : input.env_names)
    names += " " + name;
  std::vector<std::pair<std::string, std::string>> lines = {
      {"release", input.manifest.version},
      {"sha256", input.manifest.sha256},
      {"jar", input.manifest.file},
      {"stage_dir", input.stage_dir},
      {"env_file", input.env_file},
      {"env_names", names},
      {"validate_url", input.validate_url},
      {"app_version", input.manifest.app_version},
      {"health_timeout", duration_text(input.health_timeout)},
      {"min_version", input.min_switchyard_version},
  };
  std::string out;
  for (const auto& [key, value] : lines)
    out += key + "=" + value + "\n";
  return out;
}

// A zip archive being written; discarded unless closed.
class ZipWriter {
 public:
  static Result<ZipWriter> create(const fs::path& path) {
    int error_code = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error_code);
    if (archive == nullptr) {
      zip_error_t error;
      zip_error_init_with_code(&error, error_code);
      std::string text = zip_error_strerror(&error);
      zip_error_fini(&error);
      return failure(path.string() + ": cannot create the bundle (" + text +
                     "); check the directory is writable");
    }
    return ZipWriter(archive, path);
  }

  Result<void> add_text(const std::string& name, std::string_view text, std::uint32_t mode) {
    // libzip keeps the buffer until zip_close, so the text is kept here.
    m_texts.push_back(std::make_unique<std::string>(text));
    zip_source_t* source =
        zip_source_buffer(m_archive, m_texts.back()->data(), m_texts.back()->size(), 0);
    return add(name, source, mode, ZIP_CM_DEFLATE);
  }

  Result<void> add_file(const std::string& name, const fs::path& file, std::uint32_t mode) {
    zip_source_t* source = zip_source_file(m_archive, file.c_str(), 0, -1);
    // A jar is already compressed: storing it is as small and far faster.
    return add(name, source, mode, ZIP_CM_STORE);
  }

  Result<void> close() {
    zip_t* archive = m_archive;
    m_archive = nullptr;
    if (zip_close(archive) != 0) {
      std::string text = zip_strerror(archive);
      zip_discard(archive);
      return failure(m_path.string() + ": writing the bundle failed (" + text +
                     "); check the free space");
    }
    return {};
  }

  ~ZipWriter() {
    if (m_archive != nullptr) zip_discard(m_archive);
  }
  ZipWriter(ZipWriter&& other) noexcept
      : m_archive(std::exchange(other.m_archive, nullptr)),
        m_path(std::move(other.m_path)),
        m_texts(std::move(other.m_texts)) {}
  ZipWriter& operator=(ZipWriter&&) = delete;

 private:
  ZipWriter(zip_t* archive, fs::path path) : m_archive(archive), m_path(std::move(path)) {}

  // 2000-01-01 00:00 as local time: zip stores DOS (local) times, and this
  // round-trips to the same DOS fields in every time zone.
  static std::time_t fixed_time() {
    std::tm tm{};
    tm.tm_year = 100;
    tm.tm_mon = 0;
    tm.tm_mday = 1;
    tm.tm_isdst = -1;
    return std::mktime(&tm);
  }

  Result<void> add(const std::string& name, zip_source_t* source, std::uint32_t mode,
                   std::int32_t method) {
    if (source == nullptr) return failure(name + ": " + zip_strerror(m_archive));
    zip_int64_t index = zip_file_add(m_archive, name.c_str(), source, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(source);
      return failure(m_path.string() + ": adding " + name + " failed (" + zip_strerror(m_archive) +
                     ")");
    }
    auto entry = static_cast<zip_uint64_t>(index);
    std::uint32_t attributes = (0100000U | mode) << 16;  // a regular file with `mode`
    if (zip_file_set_mtime(m_archive, entry, fixed_time(), 0) != 0 ||
        zip_file_set_external_attributes(m_archive, entry, 0, ZIP_OPSYS_UNIX, attributes) != 0 ||
        zip_set_file_compression(m_archive, entry, method, 9) != 0) {
      return failure(m_path.string() + ": setting the attributes of " + name + " failed (" +
                     zip_strerror(m_archive) + ")");
    }
    return {};
  }

  zip_t* m_archive;
  fs::path m_path;
  std::vector<std::unique_ptr<std::string>> m_texts;
};

}  // namespace

std::string resolved_config_yaml(const Config& config, std::vector<std::string>& env_names) {
  // Nested maps from the dotted paths, in schema order.
  YAML::Node root(YAML::NodeType::Map);
  for (const ConfigKey& key : config_schema()) {
    if (!instance_key(key.path) || !config.find(key.path)) continue;
    YAML::Node value;
    switch (key.type) {
      case ConfigType::StringList:
      case ConfigType::PortPair: {
        auto items = config.string_list(key.path);
        value = YAML::Node(YAML::NodeType::Sequence);
        if (items) {
          for (const auto& item : *items) {
            note_reference(item, env_names);
            value.push_back(item);
          }
        }
        break;
      }
      case ConfigType::StringMap: {
        auto map = config.string_map(key.path);
        value = YAML::Node(YAML::NodeType::Map);
        if (map) {
          for (const auto& [name, item] : *map) {
            note_reference(item, env_names);
            value[name] = item;
          }
        }
        break;
      }
      default: {
        std::string text = *config.find(key.path);
        note_reference(text, env_names);
        value = text;
      }
    }
    // Walk down "target.nginx.url", creating the maps on the way.
    std::vector<YAML::Node> path{root};
    std::string_view rest = key.path;
    while (true) {
      auto dot = rest.find('.');
      std::string part(rest.substr(0, dot));
      if (dot == std::string_view::npos) {
        path.back()[part] = value;
        break;
      }
      YAML::Node child = path.back()[part];
      if (!child.IsMap()) {
        path.back()[part] = YAML::Node(YAML::NodeType::Map);
        child = path.back()[part];
      }
      path.push_back(child);
      rest.remove_prefix(dot + 1);
    }
  }
  YAML::Emitter out;
  out << root;
  return std::string(
             "# The environment's configuration, resolved by switchyard-request-deploy.\n") +
         out.c_str() + "\n";
}

Result<BundleInput> bundle_input_from(const Config& config, const fs::path& jar,
                                      const Manifest& manifest) {
  BundleInput input;
  input.jar = jar;
  input.manifest = manifest;
  input.config_yaml = resolved_config_yaml(config, input.env_names);
  // The instance must deploy the same app name the bundle was built for.
  if (!config.find("app")) {
    input.config_yaml += "app: " + manifest.app + "\n";
  }

  auto state_dir = config.string("target.state_dir");
  if (!state_dir) return state_dir.error();
  std::string state = *state_dir;
  if (auto at = state.find("{app}"); at != std::string::npos) state.replace(at, 5, manifest.app);
  input.stage_dir = (fs::path(state) / "codedeploy" / manifest.version).string();
  input.env_file = "/etc/switchyard/" + manifest.app + ".env";

  auto nginx_url = config.string("target.nginx.url");
  if (!nginx_url) return nginx_url.error();
  auto health_path = config.string("health.path");
  if (!health_path) return health_path.error();
  // target.nginx.url may name a path (/version); the health path goes on
  // its origin.
  std::string url = *nginx_url;
  auto scheme = url.find("://");
  auto path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path != std::string::npos) url.resize(path);
  input.validate_url = url + (health_path->starts_with('/') ? "" : "/") + *health_path;

  // The hooks' timeouts fit what they wait for, with a minute to spare for
  // the JVM and the agent, and never beyond AppSpec's hour.
  Duration health{}, confirm{}, drain{}, grace{}, lock{};
  for (auto [key, target] : {std::pair{"health.timeout", &health},
                             {"target.nginx.confirm_timeout", &confirm},
                             {"target.drain_timeout", &drain},
                             {"target.stop_grace", &grace},
                             {"target.lock_timeout", &lock}}) {
    auto value = config.duration(key);
    if (!value) return value.error();
    *target = *value;
  }
  input.health_timeout = health;
  constexpr std::chrono::seconds k_slack{60};
  input.application_start_timeout = std::min<std::chrono::seconds>(
      k_appspec_max_timeout, whole_seconds_up(lock + health + confirm + drain + grace) + k_slack);
  input.validate_service_timeout =
      std::min<std::chrono::seconds>(k_appspec_max_timeout, whole_seconds_up(health) + k_slack);
  input.min_switchyard_version = SWITCHYARD_VERSION;
  for (const auto& name : input.env_names) {
    if (!is_variable_name(name)) {
      return usage_error(config.origin("target.environment") + ": env:" + name +
                         ": not a variable name; write env:NAME with letters, digits and _");
    }
  }
  return input;
}

std::string render_appspec(const BundleInput& input) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  // Unquoted: the agent loads the file with Ruby's YAML and accepts only the
  // number 0.0 (ApplicationSpecification#supported_versions).
  out << YAML::Key << "version" << YAML::Value << "0.0";
  out << YAML::Key << "os" << YAML::Value << "linux";
  out << YAML::Key << "files" << YAML::Value << YAML::BeginSeq;
  out << YAML::BeginMap << YAML::Key << "source" << YAML::Value << "switchyard" << YAML::Key
      << "destination" << YAML::Value << input.stage_dir << YAML::EndMap;
  out << YAML::EndSeq;
  out << YAML::Key << "hooks" << YAML::Value << YAML::BeginMap;
  auto hook = [&](const char* event, const char* location, std::chrono::seconds timeout) {
    out << YAML::Key << event << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
    out << YAML::Key << "location" << YAML::Value << location;
    out << YAML::Key << "timeout" << YAML::Value << timeout.count();
    out << YAML::Key << "runas" << YAML::Value << input.runas;
    out << YAML::EndMap << YAML::EndSeq;
  };
  hook("BeforeInstall", "hooks/before-install.sh", input.before_install_timeout);
  hook("ApplicationStart", "hooks/application-start.sh", input.application_start_timeout);
  hook("ValidateService", "hooks/validate-service.sh", input.validate_service_timeout);
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Result<Bundle> build_bundle(const BundleInput& input, const fs::path& output) {
  std::string settings = hook_settings(input);
  // Every value is one line of hook-settings, read without evaluation.
  for (const auto& value : {input.manifest.version, input.manifest.sha256, input.manifest.file,
                            input.stage_dir, input.env_file, input.validate_url,
                            input.manifest.app_version, input.min_switchyard_version}) {
    if (value.find_first_of("\n\r") != std::string::npos) {
      return usage_error("codedeploy bundle: a value holds a line break (" +
                         value.substr(0, value.find_first_of("\n\r")) +
                         "...); remove it from the configuration or manifest");
    }
  }
  if (!is_artifact_label(input.manifest.version) || !is_artifact_label(input.manifest.file)) {
    return usage_error("codedeploy bundle: release '" + input.manifest.version + "' or file '" +
                       input.manifest.file +
                       "' is not a label (letters, digits, . _ -); fix the "
                       "release label");
  }
  std::error_code ignored;
  fs::remove(output, ignored);
  auto writer = ZipWriter::create(output);
  if (!writer) return writer.error();
  constexpr std::uint32_t k_script = 0755;
  constexpr std::uint32_t k_data = 0644;
  const std::string jar = "switchyard/" + input.manifest.file;
  for (auto added : {
           writer->add_text("appspec.yml", render_appspec(input), k_data),
           writer->add_text("hooks/common.sh", k_common_sh, k_data),
           writer->add_text("hooks/before-install.sh", k_before_install_sh, k_script),
           writer->add_text("hooks/application-start.sh", k_application_start_sh, k_script),
           writer->add_text("hooks/validate-service.sh", k_validate_service_sh, k_script),
           writer->add_file(jar, input.jar, k_data),
           writer->add_text(jar + ".manifest.json", manifest_to_json(input.manifest), k_data),
           writer->add_text("switchyard/switchyard.yml", input.config_yaml, k_data),
           writer->add_text("switchyard/hook-settings", settings, k_data),
       }) {
    if (!added) return added.error();
  }
  if (auto closed = writer->close(); !closed) return closed.error();

  Bundle bundle;
  bundle.path = output;
  bundle.size = fs::file_size(output, ignored);
  return bundle;
}

}  // namespace switchyard
