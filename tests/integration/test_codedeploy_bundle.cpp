// The CodeDeploy revision bundle (runner/deploy/bundle): reproducible bytes,
// its entries and modes, appspec.yml, and its hooks run on this machine the
// way the CodeDeploy agent runs them (tests/support/codedeploy_agent.py:
// unpacked from the zip, appspec validated against the AppSpec reference,
// lifecycle events in order with the agent's environment variables) against
// a real private nginx and the sample service, under traffic.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zip.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "runner/core/config.hpp"
#include "runner/deploy/bundle.hpp"
#include "runner/util/process.hpp"
#include "runner/util/sha256.hpp"
#include "tests/integration/host_harness.hpp"

namespace switchyard {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Config load_config(const fs::path& path, const std::map<std::string, std::string>& variables) {
  ConfigLoadOptions options;
  options.path = path;
  options.variables = variables;
  auto config = Config::load(options);
  EXPECT_TRUE(config) << (config ? "" : config.error().message);
  return *config;
}

Manifest manifest_of(const fs::path& jar) {
  auto manifest = read_manifest(manifest_path_for(jar));
  EXPECT_TRUE(manifest);
  return *manifest;
}

struct ZipEntry {
  std::string name;
  std::uint32_t mode = 0;
  std::uint16_t method = 0;
};

std::vector<ZipEntry> zip_entries(const fs::path& path) {
  std::vector<ZipEntry> out;
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_RDONLY, &error);
  if (archive == nullptr) return out;
  for (zip_int64_t i = 0; i < zip_get_num_entries(archive, 0); ++i) {
    zip_stat_t stat;
    zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &stat);
    zip_uint8_t system = 0;
    zip_uint32_t attributes = 0;
    zip_file_get_external_attributes(archive, static_cast<zip_uint64_t>(i), 0, &system,
                                     &attributes);
    out.push_back({stat.name, (attributes >> 16) & 07777, stat.comp_method});
  }
  zip_close(archive);
  return out;
}

class BundleFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/switchyard-bundle-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    m_dir = pattern;
    m_jar = m_dir / "hello-2.0.0.jar";
    std::ofstream(m_jar) << std::string(100000, 'j');
    m_manifest.app = "hello";
    m_manifest.version = "2.0.0-abc";
    m_manifest.app_version = "2.0.0";
    m_manifest.file = m_jar.filename().string();
    m_manifest.size = fs::file_size(m_jar);
    m_manifest.sha256 = *sha256_file(m_jar);
    std::ofstream(m_dir / "switchyard.yml")
        << "app: hello\n"
        << "health:\n  timeout: 45s\n"
        << "target:\n  state_dir: /srv/{app}\n  environment:\n    DB_PASSWORD: env:DB_PASSWORD\n"
        << "    PLAIN: plain\n  nginx:\n    url: http://127.0.0.1:8080/version\n"
        << "deploy:\n  codedeploy:\n    application: hello\n    deployment_group: prod\n";
  }
  void TearDown() override { fs::remove_all(m_dir); }

  fs::path m_dir;
  fs::path m_jar;
  Manifest m_manifest;
};

TEST_F(BundleFiles, TheSameInputGivesTheSameBytesInAnyTimeZone) {
  auto config = load_config(m_dir / "switchyard.yml", {});
  auto input = bundle_input_from(config, m_jar, m_manifest);
  ASSERT_TRUE(input) << input.error().message;
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  auto first = build_bundle(*input, m_dir / "first.zip");
  ASSERT_TRUE(first) << first.error().message;
  ::setenv("TZ", "Pacific/Auckland", 1);
  ::tzset();
  auto second = build_bundle(*input, m_dir / "second.zip");
  ::unsetenv("TZ");
  ::tzset();
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(*sha256_file(first->path), *sha256_file(second->path));
}

TEST_F(BundleFiles, HoldsTheJarConfigAppSpecAndExecutableHooks) {
  auto config = load_config(m_dir / "switchyard.yml", {});
  auto input = bundle_input_from(config, m_jar, m_manifest);
  ASSERT_TRUE(input) << input.error().message;
  EXPECT_EQ(input->env_names, std::vector<std::string>{"DB_PASSWORD"});
  EXPECT_EQ(input->stage_dir, "/srv/hello/codedeploy/2.0.0-abc");
  EXPECT_EQ(input->env_file, "/etc/switchyard/hello.env");
  EXPECT_EQ(input->validate_url, "http://127.0.0.1:8080/actuator/health");
  // lock 10m + health 45s + confirm 10s + drain 30s + grace 10s + 60s slack.
  EXPECT_EQ(input->application_start_timeout, std::chrono::seconds(600 + 45 + 10 + 30 + 10 + 60));
  EXPECT_EQ(input->validate_service_timeout, std::chrono::seconds(45 + 60));
  // The secret stays a reference; the instance resolves it.
  EXPECT_NE(input->config_yaml.find("DB_PASSWORD: env:DB_PASSWORD"), std::string::npos)
      << input->config_yaml;
  EXPECT_EQ(input->config_yaml.find("codedeploy"), std::string::npos) << input->config_yaml;

  auto bundle = build_bundle(*input, m_dir / "bundle.zip");
  ASSERT_TRUE(bundle) << bundle.error().message;
  auto entries = zip_entries(bundle->path);
  std::vector<std::string> names;
  for (const auto& entry : entries) {
    names.push_back(entry.name);
    bool script = entry.name.starts_with("hooks/") && entry.name != "hooks/common.sh";
    EXPECT_EQ(entry.mode, script ? 0755u : 0644u) << entry.name;
    if (entry.name.ends_with(".jar")) EXPECT_EQ(entry.method, ZIP_CM_STORE);
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "appspec.yml", "hooks/common.sh", "hooks/before-install.sh",
                       "hooks/application-start.sh", "hooks/validate-service.sh",
                       "switchyard/hello-2.0.0.jar", "switchyard/hello-2.0.0.jar.manifest.json",
                       "switchyard/switchyard.yml", "switchyard/hook-settings"}));
  EXPECT_EQ(render_appspec(*input),
            "version: 0.0\n"
            "os: linux\n"
            "files:\n"
            "  - source: switchyard\n"
            "    destination: /srv/hello/codedeploy/2.0.0-abc\n"
            "hooks:\n"
            "  BeforeInstall:\n"
            "    - location: hooks/before-install.sh\n"
            "      timeout: 60\n"
            "      runas: root\n"
            "  ApplicationStart:\n"
            "    - location: hooks/application-start.sh\n"
            "      timeout: 755\n"
            "      runas: root\n"
            "  ValidateService:\n"
            "    - location: hooks/validate-service.sh\n"
            "      timeout: 105\n"
            "      runas: root\n");
}

// The agent's run of a bundle: its exit code and one JSON object per event.
struct AgentRun {
  int exit_code = -1;
  std::vector<boost::json::object> events;
  std::string err;
  const boost::json::object* failed() const {
    for (const auto& event : events) {
      if (event.at("status").as_string() == "Failed") return &event;
    }
    return nullptr;
  }
};

// `path`: the PATH the hooks see; empty means the build directory first.
AgentRun run_agent(const fs::path& bundle, const fs::path& root, const std::string& path = "") {
  ProcessSpec spec;
  spec.argv = {"/usr/bin/python3",
               std::string(SWITCHYARD_SOURCE_DIR) + "/tests/support/codedeploy_agent.py",
               "--bundle",
               bundle.string(),
               "--deployment-root",
               root.string()};
  spec.set_environment = {
      {"PATH", path.empty() ? std::string(SWITCHYARD_BIN_DIR) + ":" + std::getenv("PATH") : path}};
  spec.timeout = 300s;
  AgentRun run;
  auto outcome = run_process(spec, [&](Stream stream, std::string_view line) {
    if (stream == Stream::Stdout) {
      run.events.push_back(boost::json::parse(line).as_object());
    } else {
      run.err += std::string(line) + "\n";
    }
  });
  if (outcome) run.exit_code = outcome->exit_code;
  return run;
}

// BeforeInstall refuses an instance without switchyard, or with one older
// than the bundle needs, before anything is installed.
TEST_F(BundleFiles, BeforeInstallNeedsSwitchyardNewEnough) {
  auto config = load_config(m_dir / "switchyard.yml", {});
  auto input = bundle_input_from(config, m_jar, m_manifest);
  ASSERT_TRUE(input) << input.error().message;
  input->env_names.clear();
  input->runas = ::getenv("USER") != nullptr ? ::getenv("USER") : "root";
  input->stage_dir = (m_dir / "stage").string();
  ASSERT_TRUE(build_bundle(*input, m_dir / "bundle.zip"));
  auto missing = run_agent(m_dir / "bundle.zip", m_dir / "root", "/usr/bin:/bin");
  ASSERT_NE(missing.failed(), nullptr) << missing.err;
  EXPECT_EQ(missing.failed()->at("event").as_string(), "BeforeInstall");
  EXPECT_NE(std::string(missing.failed()->at("log_tail").as_string())
                .find("[stderr]BeforeInstall: switchyard-switch-traffic: not found on PATH"),
            std::string::npos)
      << missing.failed()->at("log_tail").as_string();

  input->min_switchyard_version = "99.0.0";
  ASSERT_TRUE(build_bundle(*input, m_dir / "bundle.zip"));
  auto old = run_agent(m_dir / "bundle.zip", m_dir / "root");
  ASSERT_NE(old.failed(), nullptr) << old.err;
  EXPECT_NE(std::string(old.failed()->at("log_tail").as_string())
                .find(std::string("[stderr]BeforeInstall: switchyard ") + SWITCHYARD_VERSION +
                      ": too old for this revision; install switchyard 99.0.0 or newer on this "
                      "instance"),
            std::string::npos)
      << old.failed()->at("log_tail").as_string();
  EXPECT_FALSE(fs::exists(m_dir / "stage")) << "Install ran after a failed BeforeInstall";
}

class BundleOnAHost : public host_harness::HostTest {
 protected:
  // A bundle of `version` from the host's configuration (with `variables`
  // over it), reading its env file from the test's directory.
  fs::path bundle_of(const std::string& version,
                     const std::map<std::string, std::string>& variables = {}) {
    auto jar = host_harness::version_jar(version);
    EXPECT_TRUE(jar);
    auto config = load_config(m_host->config(), variables);
    auto input = bundle_input_from(config, *jar, manifest_of(*jar));
    EXPECT_TRUE(input) << input.error().message;
    input->env_file = env_file().string();
    input->runas = ::getenv("USER") != nullptr ? ::getenv("USER") : "root";
    fs::path zip = m_host->dir() / (version + ".zip");
    auto bundle = build_bundle(*input, zip);
    EXPECT_TRUE(bundle) << bundle.error().message;
    return zip;
  }
  fs::path env_file() const { return m_host->dir() / "hello.env"; }
  void write_env_file(const std::string& text) {
    std::ofstream(env_file()) << text;
    ::chmod(env_file().c_str(), 0600);
  }
};

TEST_F(BundleOnAHost, HooksSwitchToTheNewReleaseUnderLoadWithoutAFailedRequest) {
  start();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  write_env_file("# secrets for hello\nDB_PASSWORD=s3cret value\n");
  auto bundle =
      bundle_of("2.0.0", {{"SWITCHYARD_TARGET__ENVIRONMENT__DB_PASSWORD", "env:DB_PASSWORD"}});

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> answered{0};
  std::thread traffic([&] {
    while (!stop) {
      auto version = m_host->version_through_nginx();
      if (version != "1.0.0" && version != "2.0.0") ++failures;
      ++answered;
      std::this_thread::sleep_for(5ms);
    }
  });
  auto run = run_agent(bundle, m_host->dir() / "deployment-root");
  stop = true;
  traffic.join();

  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> events;
  for (const auto& event : run.events) {
    events.push_back(std::string(event.at("event").as_string()));
    EXPECT_EQ(event.at("status").as_string(), "Succeeded");
  }
  EXPECT_EQ(events, (std::vector<std::string>{"DownloadBundle", "ApplicationStop", "BeforeInstall",
                                              "Install", "AfterInstall", "ApplicationStart",
                                              "ValidateService"}));
  EXPECT_EQ(failures.load(), 0) << "of " << answered.load() << " requests through nginx";
  EXPECT_GT(answered.load(), 20);
  EXPECT_EQ(m_host->version_through_nginx(), "2.0.0");
  EXPECT_EQ(run.err.find("s3cret"), std::string::npos) << "a secret reached the hook log";
  // The staged files are where appspec's files: put them.
  EXPECT_TRUE(fs::exists(m_host->state_dir() / "codedeploy/2.0.0/hello-service-2.0.0.jar"));
}

TEST_F(BundleOnAHost, AnUnhealthyReleaseFailsApplicationStartAndTheOldOneKeepsServing) {
  start({.health_timeout = "3s"});
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  auto bundle = bundle_of("2.0.0", {{"SWITCHYARD_TARGET__ENVIRONMENT__FAIL_HEALTH", "1"}});
  auto run = run_agent(bundle, m_host->dir() / "deployment-root");
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const auto* failed = run.failed();
  ASSERT_NE(failed, nullptr) << run.err;
  EXPECT_EQ(failed->at("event").as_string(), "ApplicationStart");
  EXPECT_EQ(failed->at("error_code").as_string(), "ScriptFailed");
  std::string tail(failed->at("log_tail").as_string());
  EXPECT_NE(tail.find("[stderr]"), std::string::npos) << tail;
  EXPECT_NE(tail.find("not healthy after 3s"), std::string::npos) << tail;
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
}

TEST_F(BundleOnAHost, AMissingEnvVariableFailsBeforeInstallNamingIt) {
  start();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  write_env_file("OTHER=1\n");
  auto bundle =
      bundle_of("2.0.0", {{"SWITCHYARD_TARGET__ENVIRONMENT__DB_PASSWORD", "env:DB_PASSWORD"}});
  auto run = run_agent(bundle, m_host->dir() / "deployment-root");
  EXPECT_EQ(run.exit_code, 1);
  const auto* failed = run.failed();
  ASSERT_NE(failed, nullptr) << run.err;
  EXPECT_EQ(failed->at("event").as_string(), "BeforeInstall");
  EXPECT_NE(std::string(failed->at("log_tail").as_string())
                .find("[stderr]BeforeInstall: env:DB_PASSWORD: not set in " + env_file().string() +
                      "; add DB_PASSWORD=... there (mode 0600)"),
            std::string::npos)
      << failed->at("log_tail").as_string();
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
}

}  // namespace
}  // namespace switchyard
