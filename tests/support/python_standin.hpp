// A Python stand-in server of the tests' (tests/support/*.py): started with
// its stdin and stdout on pipes, it prints the loopback port it listens on,
// logs every request it gets as one JSON line, and exits when its stdin
// closes (so a test that dies cannot leave it running).
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

namespace test_support {

inline constexpr const char* k_python = "/usr/bin/python3";

class PythonStandIn {
 public:
  // Runs `script` with `--log log` and `flags`.
  PythonStandIn(const std::filesystem::path& script, const std::filesystem::path& log,
                const std::vector<std::string>& flags)
      : m_log(log) {
    int to_child[2];
    int from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return;
    std::vector<std::string> args = {k_python, script.string(), "--log", log.string()};
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
  ~PythonStandIn() {
    if (m_stdin >= 0) close(m_stdin);
    if (m_pid > 0) waitpid(m_pid, nullptr, 0);
  }
  PythonStandIn(const PythonStandIn&) = delete;
  PythonStandIn& operator=(const PythonStandIn&) = delete;

  int port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

  // Every request it received, in order.
  std::vector<boost::json::object> requests() const {
    std::vector<boost::json::object> out;
    std::ifstream in(m_log);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.push_back(boost::json::parse(line).as_object());
    }
    return out;
  }

 private:
  std::filesystem::path m_log;
  pid_t m_pid = -1;
  int m_stdin = -1;
  int m_port = 0;
};

}  // namespace test_support
