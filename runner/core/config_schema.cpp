// Every key switchyard.yml may hold, in one table. A key missing here is an
// "unknown key" error for the user, and docs/CONFIG.md must describe every
// row (a unit test checks both ways stay true). Each area owns one section;
// add a key to your section, with its default as a user would write it.
#include "runner/core/config.hpp"

namespace switchyard {

const std::vector<ConfigKey>& config_schema() {
  using enum ConfigType;
  static const std::vector<ConfigKey> schema = {
      // General: what is being shipped.
      {"app", String, "", "the application's name (default: the jar's base name)"},

      // Environments: `environments.<name>` holds any of the keys below and
      // overrides them for that environment; `branches` picks it by branch.
      {"environments.*.branches", StringList, "",
       "branch patterns (main, release/*) that select this environment when --env is not given"},

      // build: build-jar, the Maven or Gradle build that makes the jar.
      {"build.tool", String, "auto",
       "which build to run: auto runs build.command when set, else detects ./gradlew, ./mvnw, "
       "gradle or mvn; command runs build.command",
       "auto|maven|gradle|command"},
      {"build.command", StringList, "",
       "the build as an argument vector (never a shell string); used by build.tool auto or "
       "command"},
      {"build.args", StringList, "",
       "arguments added to the detected Maven or Gradle build ([-o] builds offline)"},
      {"build.jar", String, "", "a glob that picks the runnable jar when the build makes several"},
      {"build.release_template", String, "{project_version}-{short_sha}",
       "the release label template: {project_version} {sha} {short_sha} {branch} {build} {time}"},
      {"build.project_dir", String, ".", "the directory holding the build files"},

      // artifact: push-artifact and every later step that fetches the jar.
      {"artifact.store", String, "",
       "where artifacts are stored: file:///dir or s3://bucket/prefix (default: a file store under "
       "/var/lib/switchyard/artifacts as root, $XDG_DATA_HOME/switchyard/artifacts otherwise)"},
      {"artifact.endpoint", String, "",
       "an S3-compatible endpoint URL (path-style addressing is used with it)"},
      {"artifact.region", String, "", "the S3 region (default: AWS_REGION, then the profile's)"},
      {"artifact.profile", String, "", "the AWS profile for credentials (default: AWS_PROFILE)"},

      // health: the health gate (verify-health, and the slot check during a switch).
      {"health.path", String, "/actuator/health", "the health endpoint's path on the service"},
      {"health.timeout", Time, "60s", "how long to wait for healthy before giving up", "", "1ms.."},
      {"health.interval", Time, "100ms", "the time between probes", "", "1ms.."},
      {"health.request_timeout", Time, "2s", "the time limit of one probe", "", "1ms.."},
      {"health.expect_status", Integer, "", "the status code required (default: any 2xx)", "",
       "100..599"},
      {"health.expect_json", StringList, "",
       "PATH=VALUE checks on the body (status=UP); PATH is dotted or a JSON pointer"},
      {"health.successes", Integer, "1", "consecutive successful probes required", "", "1..999999"},
      {"health.cacert", String, "", "a CA bundle (PEM) to verify TLS with"},
      {"health.insecure", Boolean, "false", "skip TLS verification (tests only)"},
      {"health.headers", StringMap, "",
       "headers sent with every probe; a value may be env:NAME to read variable NAME (masked)"},

      // verify: the check after a deploy, through the public URL.
      {"verify.url", String, "", "the public URL verify-health checks after the deploy"},

      // target: the host-side switch (switch-traffic, rollback)
      {"target.state_dir", String, "/var/lib/switchyard/{app}",
       "where releases, state.json, history.jsonl and the lock live"},
      {"target.ports", PortPair, "[8081, 8082]", "the two slot ports"},
      {"target.environment", StringMap, "",
       "environment variables for the service; a value may be env:NAME to read variable NAME "
       "where the deploy is requested (masked)"},
      {"target.drain_timeout", Time, "30s",
       "how long the old slot may finish in-flight requests after the switch"},
      {"target.stop_grace", Time, "10s", "time between SIGTERM and SIGKILL when stopping a slot"},
      {"target.keep_releases", Integer, "5", "how many releases to keep on the host"},
      {"target.lock_timeout", Time, "10m", "how long a deploy waits for another to finish"},
      // target, continued (host helper): how slots run and how nginx is switched.
      {"target.start_command", StringList, "[java, -jar, \"{artifact}\", \"--server.port={port}\"]",
       "the service's start command as an argument vector; placeholders {artifact} {port} "
       "{version} {environment} {slot}"},
      {"target.working_directory", String, "",
       "the service's working directory (default: its release directory)"},
      {"target.user", String, "",
       "the user the service runs as (needs root; default: the deployer)"},
      {"target.run_as", String, "auto",
       "how a slot runs: process (detached process group under a supervisor), systemd "
       "(template unit <app>@.service), or auto (systemd where it is PID 1 and the deployer "
       "may manage units, else process)",
       "auto|process|systemd"},
      {"target.systemd.unit_dir", String, "/etc/systemd/system",
       "where systemd mode writes the template unit <app>@.service"},
      {"target.systemd.systemctl", String, "systemctl", "the systemctl program systemd mode runs"},
      {"target.systemd.run_dir", String, "/run/switchyard/{app}",
       "where systemd mode writes each instance's environment file <port>.env (0600, in a 0700 "
       "directory; it may hold target.environment's secrets, so it stays off the disk)"},
      {"target.nginx.mode", String, "reload",
       "how nginx is switched: reload (rewrite the include, nginx -t, reload) or seamless (njs "
       "router, no reload)",
       "reload|seamless"},
      {"target.nginx.binary", String, "nginx", "the nginx program (for nginx -t and reload)"},
      {"target.nginx.prefix", String, "", "nginx -p PREFIX (default: nginx's own)"},
      {"target.nginx.conf", String, "", "nginx -c CONF (default: nginx's own)"},
      {"target.nginx.include", String, "",
       "reload mode: the include switchyard rewrites (set $service_port N; or server "
       "127.0.0.1:N;)"},
      {"target.nginx.include_format", String, "set",
       "what the include holds: set (set $service_port N;) or server (server 127.0.0.1:N;)",
       "set|server"},
      {"target.nginx.live_port_file", String, "",
       "seamless mode: the file the njs router reads the live port from (default: "
       "<state_dir>/live-port)"},
      {"target.nginx.pid_file", String, "",
       "the nginx master's pid file (default: the conf's pid directive, else /run/nginx.pid)"},
      {"target.nginx.upstream_name", String, "switchyard",
       "names the snippet's upstream blocks; one per app sharing an nginx"},
      {"target.nginx.router_script", String, "",
       "seamless mode: the njs router (default: share/switchyard/nginx/router.js)"},
      {"target.nginx.url", String, "http://127.0.0.1/",
       "how the switch reaches nginx to confirm the new version answers"},
      {"target.nginx.confirm_timeout", Time, "10s",
       "how long the new version has to answer through nginx before the switch is undone"},
      {"target.keep_warm", Time, "0s",
       "how long the previous slot keeps running after a switch, for an instant rollback"},

      // deploy: request-deploy, asking the hosts to deploy (docs/DEPLOY.md).
      {"deploy.via", String, "local",
       "how hosts are asked to deploy: local (this machine), ssh, or codedeploy (AWS CodeDeploy)",
       "local|ssh|codedeploy"},
      {"deploy.hosts", StringList, "",
       "the hosts, [USER@]HOST[:PORT] each (ssh); --host replaces the list"},
      {"deploy.batch", Integer, "1", "how many hosts deploy at a time"},
      {"deploy.batch_pause", Time, "0s", "the wait between batches (watch the dashboards)"},
      {"deploy.rollback_on_failure", Boolean, "true",
       "when a host fails, roll back the hosts this rollout already switched"},
      {"deploy.remote_bin", String, "switchyard", "the switchyard program on the hosts"},
      {"deploy.presign", Time, "",
       "s3:// artifacts: hosts fetch through a presigned URL valid this long instead of with "
       "their own credentials",
       "", "1s..168h"},
      {"deploy.ssh.identity_file", String, "",
       "the private key ssh uses (default: ssh's own, the agent); env:NAME reads the key itself "
       "from variable NAME (masked)"},
      {"deploy.ssh.known_hosts", String, "",
       "the pinned host keys, relative to switchyard.yml (default: ~/.ssh/known_hosts)"},
      {"deploy.ssh.options", StringList, "", "extra ssh -o options, e.g. [ProxyJump=bastion]"},

      // deploy.codedeploy: request-deploy --via codedeploy (docs/AWS.md, "CodeDeploy").
      {"deploy.codedeploy.application", String, "", "the CodeDeploy application's name"},
      {"deploy.codedeploy.deployment_group", String, "",
       "the deployment group (IN_PLACE; BLUE_GREEN groups are refused)"},
      {"deploy.codedeploy.bundle_store", String, "",
       "where the revision zip is uploaded: s3://bucket/prefix (default: artifact.store when it "
       "is s3://)"},
      {"deploy.codedeploy.deployment_config", String, "",
       "the deployment configuration, e.g. CodeDeployDefault.OneAtATime (default: the group's)"},
      {"deploy.codedeploy.file_exists_behavior", String, "OVERWRITE",
       "what the agent does with files already at the staging directory",
       "DISALLOW|OVERWRITE|RETAIN"},
      {"deploy.codedeploy.wait", Time, "30m",
       "how long request-deploy follows the deployment before it exits 1 (it keeps running)"},
      {"deploy.codedeploy.region", String, "",
       "the CodeDeploy region (default: artifact.region, AWS_REGION, the profile's)"},
      {"deploy.codedeploy.endpoint", String, "",
       "the CodeDeploy endpoint URL (default: AWS_ENDPOINT_URL_CODEDEPLOY, then "
       "AWS_ENDPOINT_URL, then AWS's)"},
  };
  return schema;
}

const std::vector<RenamedConfigKey>& renamed_config_keys() {
  // build.version read like --version, which prints the program's version.
  static const std::vector<RenamedConfigKey> renamed = {
      {"build.version", "build.release_template"},
  };
  return renamed;
}

}  // namespace switchyard
