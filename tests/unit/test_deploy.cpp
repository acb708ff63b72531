// runner/deploy: the quoting function, host addresses, ssh failures, the
// resolved configuration a host gets, `--config -`, and the lock hand-over.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runner/cli/pipeline.hpp"
#include "runner/core/config.hpp"
#include "runner/core/secrets.hpp"
#include "runner/deploy/channel.hpp"
#include "runner/deploy/presign.hpp"
#include "runner/deploy/remote_config.hpp"
#include "runner/deploy/rollout.hpp"
#include "runner/deploy/session.hpp"
#include "runner/deploy/shell_quote.hpp"
#include "runner/deploy/transport.hpp"
#include "runner/host/lock.hpp"
#include "runner/util/process.hpp"
#include "tests/support/core_testing.hpp"

namespace switchyard {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

const std::vector<std::string> k_hostile = {
    "it's",
    "$(touch /tmp/x)",
    "`touch /tmp/x`",
    "a; touch /tmp/x",
    "line\ntouch x",
    "'; touch x; '",
    "\\'",
    "$HOME ${PATH}",
    "&& || | > < *",
    "",
    "--option",
    "'\"'\"'",
};

// What /bin/sh makes of `line`: the words it passes to printf.
std::vector<std::string> words_from_shell(const std::string& line, const fs::path& marker_dir) {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "for word in " + line + "; do printf '%s\\0' \"$word\"; done"};
  spec.working_directory = marker_dir;
  std::string out;
  auto outcome = run_process(spec, [&](Stream stream, std::string_view text) {
    if (stream == Stream::Stdout) out += std::string(text) + "\n";
  });
  EXPECT_TRUE(outcome && outcome->succeeded());
  if (!out.empty()) out.pop_back();  // run_process splits on newlines; the last is ours
  std::vector<std::string> words;
  std::size_t start = 0;
  for (auto end = out.find('\0'); end != std::string::npos; end = out.find('\0', start)) {
    words.push_back(out.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

TEST(ShellQuote, EveryHostileValueComesBackAsOneWordAndRunsNothing) {
  core_testing::TempDir dir;
  auto words = words_from_shell(shell_command(k_hostile), dir.path());
  EXPECT_EQ(words, k_hostile);
  EXPECT_FALSE(fs::exists(dir.path() / "x"));
  EXPECT_FALSE(fs::exists("/tmp/x"));
}

TEST(ShellQuote, QuotesASingleQuote) {
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
}

TEST(HostAddress, ReadsUserHostAndPort) {
  auto address = parse_host_address("deploy@web2:2222");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->user, "deploy");
  EXPECT_EQ(address->host, "web2");
  EXPECT_EQ(address->port, 2222);
  auto v6 = parse_host_address("[::1]:22");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 22);
  auto plain = parse_host_address("web1");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->port, 0);
  EXPECT_TRUE(plain->user.empty());
}

TEST(HostAddress, RefusesWhatSshWouldTakeAsAnOptionOrAShell) {
  for (const char* bad : {"", "-oProxyCommand=touch x", "web1;id", "web1 web2", "a@", "@web",
                          "web:0", "web:70000", "web:x", "us$er@web", "web1\n"}) {
    auto address = parse_host_address(bad);
    ASSERT_FALSE(address) << bad;
    EXPECT_EQ(address.error().code, ExitCode::Usage);
    EXPECT_NE(address.error().message.find("[USER@]HOST[:PORT]"), std::string::npos);
  }
}

TEST(SshTransport, PinsHostKeysAndQuotesTheRemoteCommand) {
  SshSettings settings;
  settings.known_hosts = "/etc/deploy/known_hosts";
  settings.remote_bin = "/opt/switch yard/bin/switchyard";
  SshTransport transport(settings);
  auto host = *parse_host_address("deploy@web1:2222");
  auto args = transport.ssh_arguments(host);
  auto has = [&](const std::string& word) {
    return std::find(args.begin(), args.end(), word) != args.end();
  };
  EXPECT_TRUE(has("StrictHostKeyChecking=yes"));
  EXPECT_TRUE(has("BatchMode=yes"));
  EXPECT_TRUE(has("UserKnownHostsFile=/etc/deploy/known_hosts"));
  EXPECT_EQ(args.back(), "web1");
  auto agent = transport.agent_command(host);
  EXPECT_EQ(agent.argv.back(), "'/opt/switch yard/bin/switchyard' 'request-deploy' '--agent'");
  EXPECT_EQ(agent.argv[agent.argv.size() - 2], "web1");

  settings.accept_new_host_keys = true;
  SshTransport accepting(settings);
  auto accepting_args = accepting.ssh_arguments(host);
  EXPECT_NE(
      std::find(accepting_args.begin(), accepting_args.end(), "StrictHostKeyChecking=accept-new"),
      accepting_args.end());
}

TEST(SshTransport, NamesAChangedHostKeyAndItsFingerprint) {
  SshSettings settings;
  settings.known_hosts = "deploy/known_hosts";
  auto host = *parse_host_address("web2");
  std::string output =
      "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
      "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
      "The fingerprint for the ED25519 key sent by the remote host is\n"
      "SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG.\n"
      "Host key verification failed.\n";
  auto error = describe_ssh_failure(host, output, settings);
  EXPECT_EQ(error.code, ExitCode::Unavailable);
  EXPECT_EQ(error.message,
            "web2: host key changed (now SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG); "
            "refused. If the host was rebuilt, check that fingerprint and replace its line in "
            "deploy/known_hosts");
  auto unknown = describe_ssh_failure(
      host,
      "No ED25519 host key is known for web2 and you have requested strict checking.\n"
      "Host key verification failed.\n",
      settings);
  EXPECT_NE(unknown.message.find("--accept-new-host-keys"), std::string::npos);
  auto refused = describe_ssh_failure(
      host, "ssh: connect to host web2 port 22: Connection refused\n", settings);
  EXPECT_EQ(refused.message,
            "web2: unreachable (ssh: connect to host web2 port 22: Connection refused); check the "
            "address, the network and that sshd runs there");
}

TEST(ConfigFromStdin, IgnoresTheFileAndTheVariables) {
  core_testing::TempDir dir;
  ConfigLoadOptions options;
  options.document = R"({"app": "sent", "target": {"drain_timeout": "5s"}})";
  options.path = dir.path() / "missing.yml";  // not read
  options.variables = {{"SWITCHYARD_APP", "from-variable"},
                       {"SWITCHYARD_TARGET__DRAIN_TIMEOUT", "45s"}};
  auto config = Config::load(options);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(*config->string("app"), "sent");
  EXPECT_EQ(format_duration(*config->duration("target.drain_timeout")), "5s");
}

TEST(ConfigFromStdin, ChecksKeysLikeAFile) {
  ConfigLoadOptions options;
  options.document = R"({"app": "x", "target": {"drain_timout": "5s"}})";
  auto config = Config::load(options);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ExitCode::Usage);
  EXPECT_NE(config.error().message.find("--config -:1: target.drain_timout: unknown key; did you "
                                        "mean target.drain_timeout?"),
            std::string::npos)
      << config.error().message;
}

TEST(RemoteConfig, ResolvesEnvReferencesHereAndRegistersThemAsSecrets) {
  core_testing::TempDir dir;
  auto file = dir.path() / "switchyard.yml";
  write_text(file,
             "app: hello\n"
             "build: {tool: maven}\n"
             "deploy: {via: ssh, hosts: [web1]}\n"
             "target:\n"
             "  environment: {DB_PASSWORD: 'env:TEST_DB_SECRET', PLAIN: 'x'}\n"
             "  start_command: [java, -jar, '{artifact}']\n"
             "environments:\n"
             "  prod: {target: {drain_timeout: 7s}}\n");
  ConfigLoadOptions options;
  options.path = file;
  options.environment = "prod";
  auto config = Config::load(options);
  ASSERT_TRUE(config) << config.error().message;
  auto remote = resolve_remote_config(*config, {{"TEST_DB_SECRET", "s3cr3t-db-pass"}});
  ASSERT_TRUE(remote) << remote.error().message;
  auto document = json::parse(remote->document).as_object();
  EXPECT_EQ(document.at("app").as_string(), "hello");
  EXPECT_EQ(document.at("target").at("environment").at("DB_PASSWORD").as_string(),
            "s3cr3t-db-pass");
  EXPECT_EQ(document.at("target").at("drain_timeout").as_string(), "7s");
  EXPECT_FALSE(document.contains("build"));
  EXPECT_FALSE(document.contains("deploy"));
  EXPECT_EQ(remote->secrets, std::vector<std::string>{"s3cr3t-db-pass"});
  EXPECT_EQ(mask_secrets("pass=s3cr3t-db-pass"), "pass=***");

  // What the host reads back is the same configuration.
  ConfigLoadOptions host;
  host.document = remote->document;
  auto back = Config::load(host);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->string_list("target.start_command")->at(2), "{artifact}");

  auto missing = resolve_remote_config(*config, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "target.environment.DB_PASSWORD: env:TEST_DB_SECRET: variable TEST_DB_SECRET is not "
            "set; set it (a CI secret) where the deploy is requested");
}

TEST(DeploySettings, ReadsTheDeploySection) {
  core_testing::TempDir dir;
  auto file = dir.path() / "switchyard.yml";
  write_text(file,
             "app: hello\n"
             "deploy:\n"
             "  via: ssh\n"
             "  hosts: [deploy@web1, 'deploy@web2:2222']\n"
             "  batch: 2\n"
             "  ssh: {known_hosts: deploy/known_hosts, options: [ProxyJump=bastion]}\n");
  ConfigLoadOptions options;
  options.path = file;
  auto config = Config::load(options);
  ASSERT_TRUE(config) << config.error().message;
  auto settings = load_deploy_settings(*config, dir.path(), {});
  ASSERT_TRUE(settings) << settings.error().message;
  EXPECT_EQ(settings->via, Via::Ssh);
  ASSERT_EQ(settings->hosts.size(), 2u);
  EXPECT_EQ(settings->hosts[1].port, 2222);
  EXPECT_EQ(settings->batch, 2);
  EXPECT_EQ(settings->ssh.known_hosts, dir.path() / "deploy/known_hosts");
  EXPECT_EQ(settings->ssh.options, std::vector<std::string>{"ProxyJump=bastion"});
  EXPECT_TRUE(settings->rollback_on_failure);
}

TEST(DeploySettings, AnSshFleetNeedsHosts) {
  ConfigLoadOptions options;
  options.document = R"({"app": "hello", "deploy": {"via": "ssh"}})";
  auto config = Config::load(options);
  ASSERT_TRUE(config);
  auto settings = load_deploy_settings(*config, "/", {});
  ASSERT_FALSE(settings);
  EXPECT_EQ(settings.error().code, ExitCode::Usage);
  EXPECT_EQ(settings.error().message.rfind("deploy.hosts: empty;", 0), 0u);
}

TEST(Session, VersionsMatchOnMajorAndMinor) {
  EXPECT_TRUE(compatible_version("0.1.0", "0.1.7"));
  EXPECT_FALSE(compatible_version("0.2.0", "0.1.0"));
  EXPECT_FALSE(compatible_version("", "0.1.0"));
}

// The hand-over: a child given the held descriptor adopts the lock at once,
// and its release does not let it go while the parent still holds it.
TEST(HeldLock, AChildAdoptsTheParentsLockAndNeverUnlocksIt) {
  core_testing::TempDir dir;
  auto lock_file = dir.path() / "lock";
  LockHolder self;
  self.pid = ::getpid();
  auto parent = HostLock::acquire(lock_file, self, std::chrono::seconds(1));
  ASSERT_TRUE(parent);
  int handed = ::dup(parent->descriptor());
  ASSERT_GE(handed, 0);
  ::setenv(k_held_lock_variable, std::to_string(handed).c_str(), 1);
  {
    auto adopted = HostLock::acquire(lock_file, self, std::chrono::milliseconds(0));
    ASSERT_TRUE(adopted) << adopted.error().message;
  }  // released (closed) here
  EXPECT_EQ(::getenv(k_held_lock_variable), nullptr);
  // Still held by the parent: another open file cannot take it.
  int other = ::open(lock_file.c_str(), O_RDWR);
  ASSERT_GE(other, 0);
  EXPECT_NE(::flock(other, LOCK_EX | LOCK_NB), 0);
  parent->release();
  EXPECT_EQ(::flock(other, LOCK_EX | LOCK_NB), 0);
  ::close(other);
}

TEST(HeldLock, ADescriptorOfAnotherFileIsNotTheLock) {
  core_testing::TempDir dir;
  auto lock_file = dir.path() / "lock";
  int unrelated = ::open((dir.path() / "other").c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(unrelated, 0);
  ::setenv(k_held_lock_variable, std::to_string(unrelated).c_str(), 1);
  LockHolder self;
  self.pid = ::getpid();
  auto lock = HostLock::acquire(lock_file, self, std::chrono::seconds(1));
  ASSERT_TRUE(lock);
  ::unsetenv(k_held_lock_variable);
  // It took the real lock file: another open file cannot take it now.
  int other = ::open(lock_file.c_str(), O_RDWR);
  EXPECT_NE(::flock(other, LOCK_EX | LOCK_NB), 0);
  ::close(other);
  ::close(unrelated);
}

TEST(Channel, TalksToAChildBothWays) {
  ChannelSpec spec;
  spec.argv = {"sh", "-c", "read line; echo \"got $line\"; echo to-stderr >&2"};
  auto channel = Channel::start(spec);
  ASSERT_TRUE(channel) << channel.error().message;
  ASSERT_TRUE(channel->write("hello\n"));
  channel->close_input();
  std::vector<std::string> out, err;
  while (channel->read(std::chrono::seconds(5), [&](Stream stream, std::string_view line) {
    (stream == Stream::Stdout ? out : err).emplace_back(line);
  }) != Channel::ReadOutcome::Closed) {
  }
  EXPECT_EQ(channel->wait(), 0);
  EXPECT_EQ(out, std::vector<std::string>{"got hello"});
  EXPECT_EQ(err, std::vector<std::string>{"to-stderr"});
}

// --presign: a host whose agent does not list "fetch" in its hello (a
// switchyard from before the request existed) is refused at open, before
// the presigned URL is sent; one that lists it is opened. The agent here is
// a shell stand-in that says hello, records every request it gets, and
// answers an open.
Result<void> open_with_presign(const std::string& features, const std::filesystem::path& requests) {
  ChannelSpec spec;
  spec.argv = {"sh", "-c",
               "echo '{\"event\":\"hello\",\"version\":\"" SWITCHYARD_VERSION "\",\"protocol\":1" +
                   features +
                   "}'; while read line; do echo \"$line\" >>\"$0\"; "
                   "echo '{\"event\":\"opened\"}'; done",
               requests.string()};
  HostSession session(HostAddress{"web-1", "", "web-1", 0},
                      [](const HostAddress&, std::string_view) {});
  if (auto started = session.start(spec); !started) return started;
  RemoteConfig config;
  config.document = "{}";
  config.artifact_url = "https://bucket.s3.amazonaws.com/app.jar?X-Amz-Signature=secret";
  config.secrets = {config.artifact_url};
  auto opened = session.open(config, "tester");
  session.close();
  return opened;
}

TEST(Session, AnAgentWithoutFetchIsRefusedBeforeThePresignedUrlIsSent) {
  core_testing::TempDir dir;
  Result<void> opened = open_with_presign("", dir.path() / "old");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ExitCode::Unavailable);
  EXPECT_EQ(opened.error().message,
            "web-1: switchyard " SWITCHYARD_VERSION
            " there predates --presign (its agent cannot fetch a presigned URL); install this "
            "one (" SWITCHYARD_VERSION ") on the host, or drop --presign");
  EXPECT_EQ(core_testing::read_file(dir.path() / "old").find("X-Amz-Signature"), std::string::npos);

  opened = open_with_presign(",\"features\":[\"fetch\"]", dir.path() / "new");
  EXPECT_TRUE(opened) << opened.error().message;
  EXPECT_NE(core_testing::read_file(dir.path() / "new").find("X-Amz-Signature"), std::string::npos);
}

// hosts[].previous_app_version: null on a first deploy, the service's
// version otherwise; `switchyard run` checks health only when every host
// already ran the new build's app_version.
TEST(FleetJson, PreviousAppVersionIsWhatSwitchyardRunReads) {
  FleetOutcome first;
  first.hosts.emplace_back();
  first.hosts[0].host = "web1";
  first.hosts[0].after = "1.0.0";
  first.hosts[0].result = "deployed";
  auto hosts = fleet_to_json(first);
  ASSERT_EQ(hosts.size(), 1u);
  EXPECT_TRUE(hosts[0].as_object().at("previous_app_version").is_null());

  FleetOutcome again = first;
  again.hosts[0].before = "1.0.0-b1";
  again.hosts[0].before_app_version = "1.0.0";
  EXPECT_EQ(fleet_to_json(again)[0].as_object().at("previous_app_version"), "1.0.0");

  auto expected_after = [](const FleetOutcome& outcome) {
    pipeline::StepOutputs outputs;
    outputs["build-jar"] = {{"app_version", "1.0.0"}};
    outputs["request-deploy"] = {{"hosts", fleet_to_json(outcome)}};
    return pipeline::version_to_expect(outputs);
  };
  EXPECT_EQ(expected_after(first), "1.0.0");
  EXPECT_EQ(expected_after(again), "");
}

Result<Config> config_from(const std::string& document) {
  ConfigLoadOptions options;
  options.document = document;
  return Config::load(options);
}

TEST(Presign, IsOptionalAndLivesOneSecondToSevenDays) {
  auto unset = config_from(R"({"app": "hello"})");
  ASSERT_TRUE(unset) << unset.error().message;
  auto none = presign_lifetime(*unset);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(*none);

  auto set = config_from(R"({"app": "hello", "deploy": {"presign": "10m"}})");
  ASSERT_TRUE(set) << set.error().message;
  auto ten = presign_lifetime(*set);
  ASSERT_TRUE(ten && *ten);
  EXPECT_EQ(**ten, std::chrono::minutes(10));

  for (std::string bad : {"0s", "169h"}) {
    auto refused = config_from("{\"app\": \"hello\", \"deploy\": {\"presign\": \"" + bad + "\"}}");
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code, ExitCode::Usage);
    EXPECT_NE(refused.error().message.find("deploy.presign"), std::string::npos)
        << refused.error().message;
    EXPECT_NE(refused.error().message.find("from 1s to 168h"), std::string::npos)
        << refused.error().message;
  }
}

TEST(Presign, RefusesAnArtifactThatIsNotInS3) {
  auto config = config_from(R"({"app": "hello"})");
  ASSERT_TRUE(config);
  for (const char* artifact : {"/srv/hello.jar", "file:///srv/hello.jar", "https://x/hello.jar"}) {
    FleetRequest request;
    request.artifact = artifact;
    RemoteConfig remote;
    auto presigned = presign_for_hosts(*config, std::chrono::minutes(10), request, remote);
    ASSERT_FALSE(presigned) << artifact;
    EXPECT_EQ(presigned.error().code, ExitCode::Usage);
    EXPECT_NE(presigned.error().message.find(std::string(artifact) + " is not an s3:// artifact"),
              std::string::npos)
        << presigned.error().message;
    EXPECT_NE(presigned.error().message.find("drop --presign"), std::string::npos);
    EXPECT_TRUE(remote.artifact_url.empty());
  }
}

}  // namespace
}  // namespace switchyard
