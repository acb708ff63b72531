#include "runner/core/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

using namespace std::chrono_literals;
using namespace switchyard;

namespace config_test {

// A temporary directory holding one switchyard.yml (or another file).
class ConfigFile {
 public:
  explicit ConfigFile(const std::string& text, const std::string& name = "switchyard.yml") {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "switchyard-config-XXXXXX").string();
    m_directory = mkdtemp(pattern.data());
    m_path = m_directory / name;
    std::ofstream(m_path) << text;
  }
  ~ConfigFile() { std::filesystem::remove_all(m_directory); }
  const std::filesystem::path& path() const { return m_path; }
  const std::filesystem::path& directory() const { return m_directory; }
  std::string name() const { return m_path.string(); }

 private:
  std::filesystem::path m_directory;
  std::filesystem::path m_path;
};

Result<Config> load(const ConfigFile& file, ConfigLoadOptions options = {}) {
  options.path = file.path();
  return Config::load(options);
}

std::string load_error(const std::string& text, ConfigLoadOptions options = {}) {
  ConfigFile file(text);
  auto config = load(file, std::move(options));
  if (config.ok()) return "(loaded without error)";
  EXPECT_EQ(config.error().code, ExitCode::Usage);
  std::string prefix = file.name();
  std::string message = config.error().message;
  // Messages name the file as given; the tests compare from "switchyard.yml".
  for (auto at = message.find(prefix); at != std::string::npos; at = message.find(prefix)) {
    message.replace(at, prefix.size(), "switchyard.yml");
  }
  return message;
}

constexpr const char* k_example = R"(app: hello
build:
  tool: maven
  command: [mvn, -o, package]
health:
  timeout: 20s
  expect_json: [status=UP]
target:
  ports: [9001, 9002]
  environment:
    JAVA_OPTS: -Xmx256m
    GREETING: top
  drain_timeout: 5s
environments:
  dev:
    branches: [develop, feature/*]
    health:
      timeout: 5s
  prod:
    branches: [main, release/*]
    target:
      drain_timeout: 40s
      environment:
        GREETING: prod
)";

}  // namespace config_test

using namespace config_test;

TEST(Config, NoFileMeansDefaultsOnly) {
  ConfigFile unrelated("app: ignored\n", "other.yml");
  auto previous = std::filesystem::current_path();
  std::filesystem::current_path(unrelated.directory());
  auto config = Config::load({});
  std::filesystem::current_path(previous);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(*config->string("app"), "");
  EXPECT_EQ(*config->string("build.tool"), "auto");
  EXPECT_EQ(*config->string("build.release_template"), "{project_version}-{short_sha}");
  EXPECT_EQ(*config->string("health.path"), "/actuator/health");
  EXPECT_EQ(*config->duration("health.interval"), 100ms);
  EXPECT_EQ(*config->duration("target.drain_timeout"), 30s);
  EXPECT_EQ(*config->duration("target.lock_timeout"), 10min);
  EXPECT_EQ(*config->integer("target.keep_releases"), 5);
  EXPECT_EQ(*config->port_pair("target.ports"), std::make_pair(8081, 8082));
  EXPECT_FALSE(*config->boolean("health.insecure"));
  EXPECT_TRUE(config->string_list("build.command")->empty());
  EXPECT_TRUE(config->string_map("target.environment")->empty());
  EXPECT_EQ(config->origin("build.tool"), "default");
  EXPECT_FALSE(config->find("build.tool").has_value());
  EXPECT_EQ(config->environment(), "");
}

TEST(Config, ReadsTheCurrentDirectorysFileWhenNoneIsGiven) {
  ConfigFile file("app: from-cwd\n");
  auto previous = std::filesystem::current_path();
  std::filesystem::current_path(file.directory());
  auto config = Config::load({});
  std::filesystem::current_path(previous);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(*config->string("app"), "from-cwd");
  EXPECT_EQ(config->origin("app"), "switchyard.yml:1");
}

TEST(Config, AMissingExplicitFileIsAUsageError) {
  ConfigLoadOptions options;
  options.path = "switchyard.yml";
  ConfigFile elsewhere("", "other.yml");
  auto previous = std::filesystem::current_path();
  std::filesystem::current_path(elsewhere.directory());
  auto config = Config::load(options);
  std::filesystem::current_path(previous);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, ExitCode::Usage);
  EXPECT_EQ(config.error().message,
            "switchyard.yml: not found; pass --config PATH or create it (see docs/CONFIG.md)");
}

TEST(Config, ReadsEveryTypeFromTheTopLevel) {
  ConfigFile file(k_example);
  auto config = load(file);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(*config->string("app"), "hello");
  EXPECT_EQ(*config->string("build.tool"), "maven");
  EXPECT_EQ(*config->string_list("build.command"),
            (std::vector<std::string>{"mvn", "-o", "package"}));
  EXPECT_EQ(*config->duration("health.timeout"), 20s);
  EXPECT_EQ(*config->string_list("health.expect_json"), std::vector<std::string>{"status=UP"});
  EXPECT_EQ(*config->port_pair("target.ports"), std::make_pair(9001, 9002));
  EXPECT_EQ(*config->string_map("target.environment"),
            (std::map<std::string, std::string>{{"JAVA_OPTS", "-Xmx256m"}, {"GREETING", "top"}}));
  EXPECT_EQ(config->origin("health.timeout"), file.name() + ":6");
  EXPECT_EQ(*config->find("build.command"), "mvn,-o,package");
  EXPECT_EQ(config->environments(), (std::vector<std::string>{"dev", "prod"}));
  EXPECT_EQ(config->environment(), "");
}

TEST(Config, PicksTheEnvironmentByBranchPattern) {
  ConfigFile file(k_example);
  ConfigLoadOptions options;
  options.branch = "release/1.4";
  auto prod = load(file, options);
  ASSERT_TRUE(prod.ok()) << prod.error().message;
  EXPECT_EQ(prod->environment(), "prod");
  EXPECT_EQ(*prod->duration("target.drain_timeout"), 40s);
  EXPECT_EQ(prod->origin("target.drain_timeout"), file.name() + ":22");
  EXPECT_EQ(*prod->duration("health.timeout"), 20s);
  // Maps merge entry by entry: the environment overrides one, keeps the rest.
  EXPECT_EQ(*prod->string_map("target.environment"),
            (std::map<std::string, std::string>{{"JAVA_OPTS", "-Xmx256m"}, {"GREETING", "prod"}}));

  options.branch = "feature/login";
  auto dev = load(file, options);
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev->environment(), "dev");
  EXPECT_EQ(*dev->duration("health.timeout"), 5s);
  EXPECT_EQ(*dev->duration("target.drain_timeout"), 5s);

  options.branch = "experiment";
  auto none = load(file, options);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->environment(), "");
  EXPECT_EQ(*none->duration("health.timeout"), 20s);
}

TEST(Config, EnvFlagWinsOverTheBranch) {
  ConfigFile file(k_example);
  ConfigLoadOptions options;
  options.branch = "main";
  options.environment = "dev";
  auto config = load(file, options);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->environment(), "dev");
  EXPECT_EQ(*config->duration("health.timeout"), 5s);
}

TEST(Config, AnUnknownEnvironmentListsTheDefinedOnes) {
  ConfigLoadOptions options;
  options.environment = "staging";
  EXPECT_EQ(load_error(k_example, options),
            "--env staging: no such environment in switchyard.yml; choose one of: dev, prod");
  EXPECT_EQ(load_error("app: x\n", options),
            "--env staging: no such environment in switchyard.yml; it defines no environments "
            "section");
}

TEST(Config, PrecedenceIsFlagThenVariableThenEnvironmentThenTopLevelThenDefault) {
  ConfigFile file(k_example);
  ConfigLoadOptions options;
  options.environment = "prod";
  auto config = load(file, options);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(*config->duration("target.drain_timeout"), 40s);  // environment over top level

  options.variables = {{"SWITCHYARD_TARGET__DRAIN_TIMEOUT", "45s"}};
  config = load(file, options);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(*config->duration("target.drain_timeout"), 45s);
  EXPECT_EQ(config->origin("target.drain_timeout"), "SWITCHYARD_TARGET__DRAIN_TIMEOUT");

  options.flags.values = {{"target.drain_timeout", "50s"}};
  config = load(file, options);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(*config->duration("target.drain_timeout"), 50s);
  EXPECT_EQ(config->origin("target.drain_timeout"), "--drain-timeout");

  EXPECT_EQ(*config->duration("target.stop_grace"), 10s);  // default under all of them
}

// Repeatable flags: a list flag replaces the list, item by item as given (a
// comma in an item stays); a map flag lays its entries over the others; a
// flag registered under its own name is named so in messages.
TEST(Config, TheFlagLayerTakesListsMapsAndNames) {
  ConfigFile file(k_example);
  ConfigLoadOptions options;
  options.variables = {{"SWITCHYARD_TARGET__ENVIRONMENT__JAVA_OPTS", "-Xmx1g"}};
  options.flags.lists["health.expect_json"] = {"status=UP", "note=a,b"};
  options.flags.maps["target.environment"] = {{"GREETING", "flag"}};
  options.flags.values["build.project_dir"] = "service";
  options.flags.names["build.project_dir"] = "--project";
  options.flags.names["health.expect_json"] = "--expect-json";
  auto config = load(file, options);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(*config->string_list("health.expect_json"),
            (std::vector<std::string>{"status=UP", "note=a,b"}));
  EXPECT_EQ(config->origin("health.expect_json"), "--expect-json");
  auto environment = *config->string_map("target.environment");
  EXPECT_EQ(environment.at("GREETING"), "flag");
  EXPECT_EQ(environment.at("JAVA_OPTS"), "-Xmx1g");
  EXPECT_EQ(config->origin("build.project_dir"), "--project");

  options.flags.values["build.tool"] = "ant";
  options.flags.names["build.tool"] = "--tool";
  EXPECT_EQ(load_error("", options),
            "--tool: build.tool: 'ant' is not one of auto, maven, gradle, command");
}

TEST(Config, VariablesCoverScalarsListsAndMapEntries) {
  ConfigFile file(k_example);
  ConfigLoadOptions options;
  options.variables = {
      {"SWITCHYARD_APP", "from-variable"},
      {"SWITCHYARD_TARGET__PORTS", "7001,7002"},
      {"SWITCHYARD_BUILD__COMMAND", "[make, jar]"},
      {"SWITCHYARD_TARGET__ENVIRONMENT__JAVA_OPTS", "-Xmx1g"},
      {"SWITCHYARD_HEALTH__INSECURE", "true"},
      // Not configuration: no `__`, and not a top-level key.
      {"SWITCHYARD_LOG", "debug"},
      {"SWITCHYARD_OUTPUT_FILE", "/tmp/out.json"},
      {"SWITCHYARD_BIN_DIR", "/opt"},
      {"SWITCHYARD_SIGV4_VECTORS", "/vectors"},
      {"PATH", "/usr/bin"},
  };
  auto config = load(file, options);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(*config->string("app"), "from-variable");
  EXPECT_EQ(*config->port_pair("target.ports"), std::make_pair(7001, 7002));
  EXPECT_EQ(*config->string_list("build.command"), (std::vector<std::string>{"make", "jar"}));
  EXPECT_EQ(config->string_map("target.environment")->at("JAVA_OPTS"), "-Xmx1g");
  EXPECT_EQ(config->string_map("target.environment")->at("GREETING"), "top");
  EXPECT_TRUE(*config->boolean("health.insecure"));
  EXPECT_TRUE(config->warnings().empty()) << config->warnings().front();
}

TEST(Config, AVariableNamingNoKeyIsAWarningWithASuggestion) {
  ConfigLoadOptions options;
  options.variables = {{"SWITCHYARD_TARGET__DRAIN_TIMOUT", "45s"},
                       {"SWITCHYARD_NOTHING__LIKE__THIS_AT_ALL", "x"}};
  ConfigFile file("");
  auto config = load(file, options);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(*config->duration("target.drain_timeout"), 30s);
  EXPECT_EQ(config->warnings(),
            (std::vector<std::string>{
                "SWITCHYARD_NOTHING__LIKE__THIS_AT_ALL: names no switchyard.yml key "
                "(nothing.like.this_at_all); ignored",
                "SWITCHYARD_TARGET__DRAIN_TIMOUT: names no switchyard.yml key "
                "(target.drain_timout); ignored; did you mean SWITCHYARD_TARGET__DRAIN_TIMEOUT?"}));
}

TEST(Config, BadValuesFromVariablesAndFlagsNameWhereTheyCameFrom) {
  ConfigLoadOptions options;
  options.variables = {{"SWITCHYARD_TARGET__DRAIN_TIMEOUT", "45"}};
  EXPECT_EQ(load_error("", options),
            "SWITCHYARD_TARGET__DRAIN_TIMEOUT: target.drain_timeout: '45': not a duration; "
            "write it like 250ms, 30s, 2m or 1h30m");
  options.variables = {{"SWITCHYARD_TARGET__PORTS", "8081"}};
  EXPECT_EQ(load_error("", options),
            "SWITCHYARD_TARGET__PORTS: target.ports: expected a list of 2 ports");
  options.variables = {};
  options.flags.values = {{"health.successes", "many"}};
  EXPECT_EQ(load_error("", options), "--successes: health.successes: 'many' is not a whole number");
}

TEST(Config, UnknownKeysSuggestTheNearestKnownOne) {
  EXPECT_EQ(load_error("app: hello\n"
                       "target:\n"
                       "  drain_timout: 30s\n"),
            "switchyard.yml:3: target.drain_timout: unknown key; did you mean "
            "target.drain_timeout?");
  EXPECT_EQ(load_error("helth:\n  path: /health\n"),
            "switchyard.yml:1: helth: unknown key; did you mean health?");
  EXPECT_EQ(load_error("app: a\nbuild:\n  tol: maven\n"),
            "switchyard.yml:3: build.tol: unknown key; did you mean build.tool?");
  EXPECT_EQ(load_error("completely_unrelated_setting: 1\n"),
            "switchyard.yml:1: completely_unrelated_setting: unknown key; see docs/CONFIG.md for "
            "the keys switchyard.yml may hold");
  EXPECT_EQ(load_error("environments:\n"
                       "  prod:\n"
                       "    branch: [main]\n"),
            "switchyard.yml:3: environments.prod.branch: unknown key; did you mean "
            "environments.prod.branches?");
  EXPECT_EQ(load_error("environments:\n"
                       "  prod:\n"
                       "    target:\n"
                       "      prots: [1, 2]\n"),
            "switchyard.yml:4: environments.prod.target.prots: unknown key; did you mean "
            "environments.prod.target.ports?");
  // `branches` belongs in an environment, not at the top level.
  EXPECT_EQ(load_error("branches: [main]\n"),
            "switchyard.yml:1: branches: unknown key; see docs/CONFIG.md for the keys "
            "switchyard.yml may hold");
}

TEST(Config, WrongTypesNameTheFileLineAndKey) {
  EXPECT_EQ(load_error("app: x\n"
                       "build:\n"
                       "  tool: maven\n"
                       "health:\n"
                       "  path: /h\n"
                       "target:\n"
                       "  ports: 8081\n"),
            "switchyard.yml:7: target.ports: expected a list of 2 ports");
  EXPECT_EQ(load_error("target:\n  ports: [8081, 8082, 8083]\n"),
            "switchyard.yml:2: target.ports: expected a list of 2 ports");
  EXPECT_EQ(load_error("target:\n  ports: [8081, 99999]\n"),
            "switchyard.yml:2: target.ports: expected a list of 2 ports; '99999' is not a port "
            "(1-65535)");
  EXPECT_EQ(load_error("target:\n  ports: [8081, 8081]\n"),
            "switchyard.yml:2: target.ports: expected a list of 2 ports; both are 8081, use two "
            "different ports");
  EXPECT_EQ(load_error("health:\n  timeout: 30\n"),
            "switchyard.yml:2: health.timeout: '30': not a duration; write it like 250ms, 30s, "
            "2m or 1h30m");
  EXPECT_EQ(load_error("health:\n  successes: two\n"),
            "switchyard.yml:2: health.successes: 'two' is not a whole number");
  EXPECT_EQ(load_error("health:\n  insecure: maybe\n"),
            "switchyard.yml:2: health.insecure: 'maybe' is not true or false");
  EXPECT_EQ(load_error("build:\n  tool: ant\n"),
            "switchyard.yml:2: build.tool: 'ant' is not one of auto, maven, gradle, command");
  EXPECT_EQ(load_error("build:\n  command: mvn package\n"),
            "switchyard.yml:2: build.command: expected a list of strings");
  EXPECT_EQ(load_error("app: [a, b]\n"), "switchyard.yml:1: app: expected a string");
  EXPECT_EQ(load_error("target:\n  environment: [A=b]\n"),
            "switchyard.yml:2: target.environment: expected a map of names to strings");
  EXPECT_EQ(load_error("target: 5\n"),
            "switchyard.yml:1: target: expected a section of keys; see docs/CONFIG.md");
  EXPECT_EQ(load_error("- a\n- b\n"),
            "switchyard.yml:1: expected a map of keys at the top level; see docs/CONFIG.md");
  EXPECT_EQ(load_error("environments: [prod]\n"),
            "switchyard.yml:1: environments: expected a map of environment names to sections");
  EXPECT_EQ(load_error("environments:\n  prod:\n    branches: main\n"),
            "switchyard.yml:3: environments.prod.branches: expected a list of strings");
}

TEST(Config, MapKeysAcceptAnyEntries) {
  ConfigFile file("target:\n  environment:\n    ANY_NAME: 1\n    lower.case: x\n    EMPTY:\n");
  auto config = load(file);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(
      *config->string_map("target.environment"),
      (std::map<std::string, std::string>{{"ANY_NAME", "1"}, {"lower.case", "x"}, {"EMPTY", ""}}));
}

TEST(Config, SyntaxErrorsGiveTheLine) {
  EXPECT_EQ(load_error("app: hello\nbuild:\n  tool: [maven\n"),
            "switchyard.yml:4: end of sequence flow not found; fix the YAML (or JSON) syntax");
}

TEST(Config, JsonIsAccepted) {
  ConfigFile file(R"({
  "app": "hello",
  "target": {"ports": [7001, 7002], "drain_timeout": "3s"},
  "environments": {"prod": {"branches": ["main"], "health": {"timeout": "9s"}}}
})",
                  "switchyard.json");
  ConfigLoadOptions options;
  options.branch = "main";
  auto config = load(file, options);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(*config->port_pair("target.ports"), std::make_pair(7001, 7002));
  EXPECT_EQ(*config->duration("health.timeout"), 9s);
  EXPECT_EQ(config->environment(), "prod");

  ConfigFile broken("{\n  \"app\": \"hello\",\n  \"target\": {\"drain_timout\": \"3s\"}\n}\n",
                    "switchyard.json");
  auto error = load(broken);
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().message, broken.name() +
                                       ":3: target.drain_timout: unknown key; did you mean "
                                       "target.drain_timeout?");

  ConfigFile bad_syntax("{\n  \"app\": \"hello\",\n  \"target\": {\"ports\": [1, 2}\n}\n",
                        "switchyard.json");
  auto syntax = load(bad_syntax);
  ASSERT_FALSE(syntax.ok());
  EXPECT_TRUE(syntax.error().message.starts_with(bad_syntax.name() + ":3: "))
      << syntax.error().message;
}

TEST(Config, UnsetRequiredValuesSayHowToSetThem) {
  ConfigFile file("");
  auto config = load(file);
  ASSERT_TRUE(config.ok());
  auto status = config->integer("health.expect_status");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ExitCode::Usage);
  EXPECT_EQ(status.error().message,
            "health.expect_status: not set; add it to switchyard.yml or set "
            "SWITCHYARD_HEALTH__EXPECT_STATUS");
}

TEST(Config, TypedLookupsOfAnotherShapeNameTheValueAndWhereItCameFrom) {
  ConfigFile file("");
  auto config = load(file);
  ASSERT_TRUE(config.ok());
  auto number = config->integer("health.timeout");
  ASSERT_FALSE(number.ok());
  EXPECT_EQ(number.error().code, ExitCode::Usage);
  EXPECT_EQ(number.error().message, "default: health.timeout: '60s' is not a whole number");
  auto flag = config->boolean("target.keep_releases");
  ASSERT_FALSE(flag.ok());
  EXPECT_EQ(flag.error().message, "default: target.keep_releases: '5' is not true or false");
  auto duration = config->duration("target.keep_releases");
  ASSERT_FALSE(duration.ok());
  EXPECT_EQ(duration.error().message,
            "default: target.keep_releases: '5': not a duration; write it like 250ms, 30s, 2m "
            "or 1h30m");
}

TEST(ConfigSchema, KeysAreUniqueAndDefaultsParse) {
  std::set<std::string_view> seen;
  ConfigFile file("");
  auto config = load(file);
  ASSERT_TRUE(config.ok());
  for (const auto& key : config_schema()) {
    EXPECT_TRUE(seen.insert(key.path).second) << "duplicate key " << key.path;
    EXPECT_FALSE(key.help.empty()) << key.path;
    if (key.default_value.empty() || key.path.starts_with("environments.")) continue;
    std::string path(key.path);
    switch (key.type) {
      case ConfigType::Integer:
        EXPECT_TRUE(config->integer(path).ok()) << path;
        break;
      case ConfigType::Boolean:
        EXPECT_TRUE(config->boolean(path).ok()) << path;
        break;
      case ConfigType::Time:
        EXPECT_TRUE(config->duration(path).ok()) << path;
        break;
      case ConfigType::PortPair:
        EXPECT_TRUE(config->port_pair(path).ok()) << path;
        break;
      case ConfigType::StringList:
        EXPECT_FALSE(config->string_list(path)->empty()) << path;
        break;
      default:
        EXPECT_EQ(*config->string(path), key.default_value) << path;
    }
  }
}

TEST(ConfigSchema, VariableNamesFollowTheKeyPath) {
  EXPECT_EQ(config_variable_name("target.drain_timeout"), "SWITCHYARD_TARGET__DRAIN_TIMEOUT");
  EXPECT_EQ(config_variable_name("app"), "SWITCHYARD_APP");
}

TEST(ConfigSchema, EveryKeyIsDocumented) {
  std::ifstream file(std::filesystem::path(SWITCHYARD_SOURCE_DIR) / "docs" / "CONFIG.md");
  ASSERT_TRUE(file) << "docs/CONFIG.md is missing";
  std::stringstream text;
  text << file.rdbuf();
  for (const auto& key : config_schema()) {
    EXPECT_NE(text.str().find("`" + std::string(key.path) + "`"), std::string::npos)
        << key.path << " is not described in docs/CONFIG.md";
  }
}

namespace config_test {

// A key written twice used to be accepted with the last one winning (and
// yaml-cpp's own lookups finding the first): now it is an error naming both.
TEST(Config, AKeyWrittenTwiceNamesBothLines) {
  EXPECT_EQ(load_error("app: a\n"
                       "target:\n"
                       "  drain_timeout: 5s\n"
                       "  stop_grace: 1s\n"
                       "  drain_timeout: 50s\n"),
            "switchyard.yml:5: target.drain_timeout: set twice (lines 3 and 5); keep one");
  EXPECT_EQ(load_error("app: a\napp: b\n"),
            "switchyard.yml:2: app: set twice (lines 1 and 2); keep one");
  EXPECT_EQ(load_error("health:\n  path: /h\nhealth:\n  timeout: 1s\n"),
            "switchyard.yml:3: health: set twice (lines 1 and 3); keep one");
  EXPECT_EQ(load_error("environments:\n"
                       "  prod:\n"
                       "    branches: [main]\n"
                       "    target:\n"
                       "      environment:\n"
                       "        JAVA_OPTS: -Xmx1g\n"
                       "        JAVA_OPTS: -Xmx2g\n"),
            "switchyard.yml:7: environments.prod.target.environment.JAVA_OPTS: set twice (lines 6 "
            "and 7); keep one");
  EXPECT_EQ(load_error("{\"app\": \"a\", \"app\": \"b\"}\n"),
            "switchyard.yml:1: app: set twice on line 1; keep one");
}

// Found by the config fuzz target: an alias inside its own anchor makes the
// YAML a cycle, and the duplicate-key walk overflowed the stack.
TEST(Config, AnAliasInsideItsOwnAnchorIsRefused) {
  std::string message = load_error("base: &b\n  timeout: 1s\n  again: *b\n");
  EXPECT_NE(message.find("nested too deep (an alias inside its own anchor?)"), std::string::npos)
      << message;
}

// The health gate's limits hold for every step that reads the file, not only
// verify-health: switch-traffic --print-nginx-config used to accept them.
TEST(Config, HealthValuesOutOfRangeAreRefusedWhereverTheyComeFrom) {
  EXPECT_EQ(load_error("health:\n  expect_status: -1\n"),
            "switchyard.yml:2: health.expect_status: '-1' is out of range; use from 100 to 599");
  EXPECT_EQ(load_error("health:\n  expect_status: 600\n"),
            "switchyard.yml:2: health.expect_status: '600' is out of range; use from 100 to 599");
  EXPECT_EQ(load_error("health:\n  successes: 0\n"),
            "switchyard.yml:2: health.successes: '0' is out of range; use from 1 to 999999");
  EXPECT_EQ(load_error("health:\n  successes: 4294967297\n"),
            "switchyard.yml:2: health.successes: '4294967297' is out of range; use from 1 to "
            "999999");
  EXPECT_EQ(load_error("health:\n  interval: 0s\n"),
            "switchyard.yml:2: health.interval: '0s' is out of range; use at least 1ms");
  EXPECT_EQ(load_error("health:\n  timeout: 0ms\n"),
            "switchyard.yml:2: health.timeout: '0ms' is out of range; use at least 1ms");
  EXPECT_EQ(load_error("health:\n  request_timeout: 2562048h\n"),
            "switchyard.yml:2: health.request_timeout: '2562048h': too long; the longest "
            "duration is 1000000h");
  ConfigLoadOptions options;
  options.variables["SWITCHYARD_HEALTH__SUCCESSES"] = "0";
  EXPECT_EQ(load_error("app: a\n", options),
            "SWITCHYARD_HEALTH__SUCCESSES: health.successes: '0' is out of range; use from 1 to "
            "999999");
  ConfigFile fine("health:\n  expect_status: 204\n  successes: 3\n  interval: 1ms\n");
  auto config = load(fine);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(*config->integer("health.expect_status"), 204);
}

TEST(ConfigSchema, RangesParseAndHoldTheDefaults) {
  for (const auto& key : config_schema()) {
    if (key.range.empty()) continue;
    std::string path(key.path);
    ASSERT_TRUE(key.type == ConfigType::Integer || key.type == ConfigType::Time) << path;
    auto dots = key.range.find("..");
    ASSERT_NE(dots, std::string_view::npos) << path;
    for (auto bound : {key.range.substr(0, dots), key.range.substr(dots + 2)}) {
      if (bound.empty()) continue;
      if (key.type == ConfigType::Time) {
        EXPECT_TRUE(parse_duration(bound).ok()) << path << ": " << bound;
      }
    }
    if (key.default_value.empty()) continue;
    ConfigFile file(path.substr(0, path.find('.')) + ":\n  " + path.substr(path.find('.') + 1) +
                    ": " + std::string(key.default_value) + "\n");
    EXPECT_TRUE(load(file).ok()) << path;
  }
}

}  // namespace config_test
