// The CodeDeploy stand-in (tests/support/codedeploy_standin.py) started on a
// free loopback port with a scripted scenario, beside s3rver, for the
// request-deploy --via codedeploy tests. Header-only; namespace
// codedeploy_harness.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace codedeploy_harness {

namespace fs = std::filesystem;
namespace json = boost::json;

inline constexpr const char* k_python = "/usr/bin/python3";

// Why the stand-in cannot run here, or "" when it can.
inline std::string missing_peer() {
  if (!fs::exists(k_python)) return "/usr/bin/python3 is missing";
  if (std::system("/usr/bin/python3 -c 'import botocore' >/dev/null 2>&1") != 0) {
    return "python3-botocore is not installed (run scripts/setup)";
  }
  return "";
}

// Started with its stdin on a pipe; it exits when the pipe closes.
class CodeDeployStandIn {
 public:
  CodeDeployStandIn(const fs::path& log, const std::vector<std::string>& flags) : m_log(log) {
    int to_child[2];
    int from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return;
    std::vector<std::string> args = {
        k_python, std::string(SWITCHYARD_SOURCE_DIR) + "/tests/support/codedeploy_standin.py",
        "--log", log.string()};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    posix_spawn_file_actions_addclose(&actions, to_child[1]);
    posix_spawn_file_actions_addclose(&actions, from_child[0]);
    int rc = posix_spawn(&m_pid, k_python, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(to_child[0]);
    close(from_child[1]);
    m_stdin = to_child[1];
    fcntl(m_stdin, F_SETFD, FD_CLOEXEC);
    if (rc != 0) {
      m_pid = -1;
      close(from_child[0]);
      return;
    }
    std::string line;
    char c = 0;
    while (read(from_child[0], &c, 1) == 1 && c != '\n')
      line += c;
    close(from_child[0]);
    m_port = line.empty() ? 0 : std::stoi(line);
  }
  ~CodeDeployStandIn() {
    if (m_stdin >= 0) close(m_stdin);
    if (m_pid > 0) waitpid(m_pid, nullptr, 0);
  }
  CodeDeployStandIn(const CodeDeployStandIn&) = delete;
  CodeDeployStandIn& operator=(const CodeDeployStandIn&) = delete;

  int port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

  // Every request it received, in order.
  std::vector<json::object> requests() const {
    std::vector<json::object> out;
    std::ifstream in(m_log);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.push_back(json::parse(line).as_object());
    }
    return out;
  }

  std::vector<json::object> requests_for(std::string_view operation) const {
    std::vector<json::object> out;
    for (auto& request : requests()) {
      if (request["operation"].is_string() && request["operation"].as_string() == operation) {
        out.push_back(request);
      }
    }
    return out;
  }

 private:
  fs::path m_log;
  pid_t m_pid = -1;
  int m_stdin = -1;
  int m_port = 0;
};

}  // namespace codedeploy_harness
