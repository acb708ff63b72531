#include "runner/cli/init.hpp"

#include <spdlog/fmt/fmt.h>
#include <CLI/CLI.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "runner/cli/step.hpp"
#include "runner/core/log.hpp"
#include "runner/host/nginx_config.hpp"
#include "runner/util/atomic_file.hpp"
#include "runner/util/process.hpp"

namespace switchyard {
namespace {

// Where a service's repository finds switchyard's reusable workflow; forks
// and mirrors pass their own with --action.
constexpr std::string_view k_default_action = "switchyard/switchyard@v" SWITCHYARD_VERSION;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The first capture of `pattern` in `text`, or "".
std::string first_match(const std::string& text, const std::string& pattern) {
  std::smatch match;
  return std::regex_search(text, match, std::regex(pattern)) ? match[1].str() : "";
}

// The pom's own artifactId: the first one outside <parent> and <dependencies>.
std::string pom_artifact_id(std::string pom) {
  for (const char* section : {"parent", "dependencies", "build", "dependencyManagement"}) {
    pom = std::regex_replace(pom, std::regex(fmt::format("<{0}>[\\s\\S]*?</{0}>", section)), "");
  }
  return first_match(pom, R"(<artifactId>\s*([^<\s]+)\s*</artifactId>)");
}

std::set<std::string> git_branches(const std::filesystem::path& directory) {
  std::set<std::string> branches;
  if (find_program("git").empty()) return branches;
  ProcessSpec spec;
  spec.argv = {"git", "for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/remotes"};
  spec.working_directory = directory;
  auto outcome = run_process(spec, [&](Stream stream, std::string_view line) {
    if (stream != Stream::Stdout) return;
    std::string name(line);
    // origin/main -> main
    if (auto slash = name.find('/'); slash != std::string::npos && name.rfind("origin/", 0) == 0) {
      name = name.substr(slash + 1);
    }
    if (!name.empty() && name != "HEAD") branches.insert(name);
  });
  (void)outcome;  // not a repository, or git failed: no branches known
  return branches;
}

// A name switchyard accepts for an app: letters, digits, '.', '_' and '-'.
std::string safe_app_name(std::string name) {
  for (char& c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '_' && c != '-')
      c = '-';
  }
  return name.empty() ? "app" : name;
}

std::string switchyard_yml(const ProjectFacts& facts) {
  std::string environments;
  std::vector<std::string> branches;
  if (!facts.dev_branch.empty()) branches.push_back(facts.dev_branch);
  branches.push_back(facts.prod_branch);
  auto environment = [&](const std::string& name, const std::string& branch,
                         const std::string& host) {
    return fmt::format(
        "  {0}:\n"
        "    branches: [{1}]\n"
        "    deploy:\n"
        "      hosts: [deploy@{2}]\n"
        "    verify:\n"
        "      url: https://{2}/actuator/health\n",
        name, branch, host);
  };
  if (!facts.dev_branch.empty()) {
    environments += environment("dev", facts.dev_branch, "dev.example.org");
  }
  environments += environment("prod", facts.prod_branch, "www.example.org");
  return fmt::format(
      "# switchyard.yml for {app}, written by `switchyard init`. Every step reads it, from\n"
      "# GitHub Actions, Jenkins or a shell; docs/CONFIG.md lists every key.\n"
      "# Precedence per key: a flag > SWITCHYARD_<KEY__PATH> > the environment's\n"
      "# section > the top level > the default.\n"
      "app: {app}\n"
      "\n"
      "build:\n"
      "  tool: {tool}\n"
      "\n"
      "# Where built jars are kept (default: a directory on the machine that builds;\n"
      "# ssh deploys stream the jar to each host). For S3: s3://bucket/prefix.\n"
      "# artifact:\n"
      "#   store: s3://my-bucket/{app}\n"
      "\n"
      "health:\n"
      "  path: /actuator/health\n"
      "  expect_json: [status=UP]\n"
      "  timeout: 90s\n"
      "\n"
      "target:\n"
      "  nginx:\n"
      "    # No nginx reload: include deploy/nginx/{app}.conf in your server block.\n"
      "    mode: seamless\n"
      "\n"
      "deploy:\n"
      "  via: ssh\n"
      "  ssh:\n"
      "    # The deploy key: a file, or env:NAME holding the key (CI secrets).\n"
      "    identity_file: env:DEPLOY_SSH_KEY\n"
      "    # Pinned host keys: ssh-keyscan HOST >> deploy/known_hosts, then compare\n"
      "    # the fingerprints with the server's own (ssh-keygen -lf).\n"
      "    known_hosts: deploy/known_hosts\n"
      "\n"
      "# The branch picks the environment; a push to any other branch deploys nothing.\n"
      "environments:\n"
      "{environments}",
      fmt::arg("app", facts.app), fmt::arg("tool", facts.build_tool),
      fmt::arg("environments", environments));
}

std::string github_workflow(const ProjectFacts& facts, const std::string& action) {
  std::string branches =
      facts.dev_branch.empty() ? facts.prod_branch : facts.dev_branch + ", " + facts.prod_branch;
  auto at = action.find('@');
  std::string repository = action.substr(0, at);
  std::string ref = at == std::string::npos ? "main" : action.substr(at + 1);
  return fmt::format(
      "# Deploys {app} with switchyard on every push to {branches}; written by\n"
      "# `switchyard init`. switchyard.yml picks the environment from the branch.\n"
      "# Repository secret DEPLOY_SSH_KEY: the private key of the deploy user.\n"
      "name: deploy\n"
      "\n"
      "on:\n"
      "  push:\n"
      "    branches: [{branches}]\n"
      "\n"
      "jobs:\n"
      "  deploy:\n"
      "    uses: {repository}/.github/workflows/deploy.yml@{ref}\n"
      "    permissions:\n"
      "      contents: read\n"
      "      id-token: write\n"
      "    with:\n"
      "      java-version: \"{java}\"\n"
      "    secrets:\n"
      "      ssh-private-key: ${{{{ secrets.DEPLOY_SSH_KEY }}}}\n",
      fmt::arg("app", facts.app), fmt::arg("branches", branches),
      fmt::arg("repository", repository), fmt::arg("ref", ref),
      fmt::arg("java", facts.java_version));
}

std::string jenkinsfile(const ProjectFacts& facts) {
  return fmt::format(
      "// Deploys {app} with switchyard; written by `switchyard init`.\n"
      "// switchyard.yml picks the environment from BRANCH_NAME; a branch that\n"
      "// matches none deploys nothing. Needs the switchyard shared library (library\n"
      "// path `jenkins`) and an ssh credential `deploy-ssh-key` (docs/CI.md).\n"
      "@Library('switchyard') _\n"
      "\n"
      "pipeline {{\n"
      "  agent any\n"
      "  options {{\n"
      "    disableConcurrentBuilds()\n"
      "  }}\n"
      "  stages {{\n"
      "    stage('Deploy') {{\n"
      "      steps {{\n"
      "        script {{\n"
      "          def run = switchyard(sshCredentials: 'deploy-ssh-key')\n"
      "          echo \"deployed ${{run.version}}\"\n"
      "        }}\n"
      "      }}\n"
      "    }}\n"
      "  }}\n"
      "}}\n",
      fmt::arg("app", facts.app));
}

std::string nginx_snippet(const ProjectFacts& facts) {
  NginxSettings settings;
  settings.mode = NginxMode::Seamless;
  settings.upstream_name = facts.app;
  settings.live_port_file = "/var/lib/switchyard/" + facts.app + "/live-port";
  // Where the .deb and the tarball's /usr install put the router on a host.
  settings.router_script = "/usr/share/switchyard/nginx/router.js";
  return fmt::format(
             "# nginx for {}, written by `switchyard init`: copy each part below where its\n"
             "# comment says, then `nginx -t && nginx -s reload` once; deploys never reload.\n",
             facts.app) +
         config_snippet(settings);
}

}  // namespace

ProjectFacts detect_project(const std::filesystem::path& directory) {
  ProjectFacts facts;
  facts.build_tool = "auto";
  facts.java_version = "17";
  std::string pom = read_text(directory / "pom.xml");
  std::string gradle =
      read_text(directory / "build.gradle") + read_text(directory / "build.gradle.kts");
  std::string settings =
      read_text(directory / "settings.gradle") + read_text(directory / "settings.gradle.kts");
  if (!pom.empty()) {
    facts.build_tool = "maven";
    facts.app = pom_artifact_id(pom);
    for (const char* pattern :
         {R"(<maven\.compiler\.release>\s*(\d+))", R"(<java\.version>\s*(?:1\.)?(\d+))",
          R"(<maven\.compiler\.target>\s*(?:1\.)?(\d+))"}) {
      if (auto version = first_match(pom, pattern); !version.empty()) {
        facts.java_version = version;
        break;
      }
    }
  } else if (!gradle.empty() || !settings.empty()) {
    facts.build_tool = "gradle";
    facts.app = first_match(settings, R"(rootProject\.name\s*=\s*['"]([^'"]+)['"])");
    for (const char* pattern :
         {R"(languageVersion\s*(?:=|\.set\()\s*JavaLanguageVersion\.of\((\d+))",
          R"(sourceCompatibility\s*=\s*['"]?(?:JavaVersion\.VERSION_)?(?:1[._])?(\d+))"}) {
      if (auto version = first_match(gradle, pattern); !version.empty()) {
        facts.java_version = version;
        break;
      }
    }
  }
  if (facts.app.empty()) {
    facts.app = std::filesystem::weakly_canonical(std::filesystem::absolute(directory)).filename();
  }
  facts.app = safe_app_name(facts.app);
  auto branches = git_branches(directory);
  facts.prod_branch = branches.contains("main") || !branches.contains("master") ? "main" : "master";
  for (const char* dev : {"dev", "develop", "development"}) {
    if (branches.contains(dev)) {
      facts.dev_branch = dev;
      break;
    }
  }
  return facts;
}

std::vector<StarterFile> starter_files(const ProjectFacts& facts, const std::string& ci,
                                       const std::string& action) {
  std::vector<StarterFile> files{{"switchyard.yml", switchyard_yml(facts)}};
  if (ci == "github" || ci == "both") {
    files.push_back({".github/workflows/deploy.yml", github_workflow(facts, action)});
  }
  if (ci == "jenkins" || ci == "both") files.push_back({"Jenkinsfile", jenkinsfile(facts)});
  files.push_back({"deploy/nginx/" + facts.app + ".conf", nginx_snippet(facts)});
  return files;
}

Result<void> write_starter_files(const std::filesystem::path& directory,
                                 const std::vector<StarterFile>& files, bool force) {
  if (!force) {
    for (const auto& file : files) {
      if (std::filesystem::exists(directory / file.path)) {
        return usage_error(
            (directory / file.path).string() +
            ": exists already; switchyard init changed nothing; rerun with --force to replace "
            "it (and the other starter files)");
      }
    }
  }
  for (const auto& file : files) {
    auto path = directory / file.path;
    std::error_code error;
    std::filesystem::create_directories(path.parent_path(), error);
    if (error) {
      return usage_error(path.parent_path().string() + ": cannot create (" + error.message() +
                         "); check the permissions");
    }
    if (auto written = write_file_atomically(path, file.text); !written) return written;
  }
  return {};
}

int init_main(int argc, char** argv) {
  CLI::App app{
      "switchyard init: write a starter switchyard.yml, .github/workflows/deploy.yml, "
      "Jenkinsfile and nginx snippet for the project in the current directory"};
  CommonOptions options;
  add_common_options(app, options, true);
  std::string ci = "both";
  std::string directory = ".";
  std::string action(k_default_action);
  bool force = false;
  app.add_option("--ci", ci, "which CI files to write")
      ->check(CLI::IsMember({"github", "jenkins", "both"}));
  app.add_option("--dir", directory, "the project's directory (default: the current one)");
  app.add_option("--action", action,
                 "the repository and ref of switchyard's reusable workflow (OWNER/switchyard@REF)");
  app.add_flag("--force", force, "replace files that exist");
  return run_step(
      "switchyard init", app, options, argc, argv, [&](StepContext& context) -> Result<void> {
        auto facts = detect_project(directory);
        log::info("switchyard init: {} (build: {}, Java {}, branches: {}{})", facts.app,
                  facts.build_tool, facts.java_version, facts.prod_branch,
                  facts.dev_branch.empty() ? "" : ", " + facts.dev_branch);
        auto files = starter_files(facts, ci, action);
        boost::json::array written;
        for (const auto& file : files)
          written.emplace_back(file.path.string());
        context.result["app"] = facts.app;
        context.result["build_tool"] = facts.build_tool;
        context.result["java_version"] = facts.java_version;
        context.result["files"] = written;
        if (options.dry_run) {
          for (const auto& file : files)
            log::info("would write {}", (std::filesystem::path(directory) / file.path).string());
          context.result["dry_run"] = true;
          return {};
        }
        if (auto done = write_starter_files(directory, files, force); !done) return done;
        for (const auto& file : files)
          log::info("wrote {}", (std::filesystem::path(directory) / file.path).string());
        log::info(
            "next: put your hosts in switchyard.yml, pin their keys in deploy/known_hosts, and "
            "check the plan with 'switchyard run --dry-run'");
        return {};
      });
}

}  // namespace switchyard
