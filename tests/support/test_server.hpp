// Test support for the HTTP and health tests: starts tests/support/test_server.py
// on a free loopback port, makes a self-signed certificate with `openssl req`,
// and runs a command capturing its exit code, stdout and stderr.
//
// Everything lives in `health_testing` so it cannot clash with another area's
// helpers in the same test binary.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/core_testing.hpp"
#include "tests/support/free_port.hpp"

extern char** environ;

namespace health_testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};
};

// Starts `argv` with `extra_env` added to (or, with an empty value, removed from)
// the environment. Returns the pid; `out_fd` and `err_fd` receive the read ends.
inline pid_t spawn(const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& extra_env, int* out_fd, int* err_fd) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<std::string> env_strings;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text(*entry);
    std::string name = text.substr(0, text.find('='));
    if (extra_env.count(name) == 0) env_strings.push_back(text);
  }
  for (const auto& [name, value] : extra_env) {
    if (!value.empty()) env_strings.push_back(name + "=" + value);
  }
  std::vector<char*> env_pointers;
  for (auto& text : env_strings)
    env_pointers.push_back(text.data());
  env_pointers.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> arg_pointers;
  for (auto& text : args)
    arg_pointers.push_back(text.data());
  arg_pointers.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    setpgid(0, 0);
    execvpe(arg_pointers[0], arg_pointers.data(), env_pointers.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  *out_fd = out_pipe[0];
  *err_fd = err_pipe[0];
  return pid;
}

// Runs `argv` to completion (killing it after `timeout`) and captures its output.
inline CommandResult run(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& extra_env = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto start = std::chrono::steady_clock::now();
  int out_fd = -1;
  int err_fd = -1;
  pid_t pid = spawn(argv, extra_env, &out_fd, &err_fd);
  CommandResult result;
  std::string* targets[2] = {&result.out, &result.err};
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_count = 2;
  while (open_count > 0) {
    auto left = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - start);
    if (left.count() <= 0) {
      kill(-pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(left.count())) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      } else {
        targets[i]->append(buffer, static_cast<std::size_t>(n));
      }
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return result;
}

inline std::filesystem::path source_dir() {
  return SWITCHYARD_SOURCE_DIR;
}

using core_testing::TempDir;

// A self-signed certificate for 127.0.0.1 and localhost, made by `openssl req`.
struct Certificate {
  std::filesystem::path cert;
  std::filesystem::path key;
};

inline Certificate make_self_signed_certificate(const std::filesystem::path& dir) {
  Certificate made{dir / "cert.pem", dir / "key.pem"};
  auto result = run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                     "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                     "-keyout", made.key.string(), "-out", made.cert.string()});
  if (result.exit_code != 0) throw std::runtime_error("openssl req failed: " + result.err);
  return made;
}

// tests/support/test_server.py, started on a free loopback port (or a unix
// socket), stopped when the object goes.
class TestServer {
 public:
  explicit TestServer(std::vector<std::string> extra_args = {}) {
    std::vector<std::string> argv = {"/usr/bin/python3",
                                     (source_dir() / "tests/support/test_server.py").string()};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    m_pid = spawn(argv, {}, &m_out_fd, &m_err_fd);
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (line.find('\n') == std::string::npos) {
      pollfd fd{m_out_fd, POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || poll(&fd, 1, static_cast<int>(left.count())) <= 0) break;
      char c = 0;
      if (read(m_out_fd, &c, 1) != 1) break;
      line += c;
    }
    if (line.rfind("PORT ", 0) != 0) {
      stop();
      throw std::runtime_error("test_server.py did not start: '" + line + "'");
    }
    m_port = std::atoi(line.c_str() + 5);
  }
  ~TestServer() { stop(); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int port() const { return m_port; }
  std::string url(const std::string& path, const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(m_port) + path;
  }

  void stop() {
    if (m_pid <= 0) return;
    kill(-m_pid, SIGKILL);
    kill(m_pid, SIGKILL);
    int status = 0;
    waitpid(m_pid, &status, 0);
    m_pid = -1;
    close(m_out_fd);
    close(m_err_fd);
  }

 private:
  pid_t m_pid = -1;
  int m_out_fd = -1;
  int m_err_fd = -1;
  int m_port = 0;
};

// tests/support/test_server.py over TLS, with a self-signed certificate made
// for it in a directory of its own; all three go with the object.
struct TlsTestServer {
  TempDir dir;
  Certificate certificate = make_self_signed_certificate(dir.path());
  TestServer server{
      {"--tls-cert", certificate.cert.string(), "--tls-key", certificate.key.string()}};
};

// A suite whose tests share one TestServer (starting python costs tens of
// milliseconds); `Suite` is the deriving fixture, so each suite has its own.
template <typename Suite>
class SharedTestServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { s_server = new TestServer(); }
  static void TearDownTestSuite() {
    delete s_server;
    s_server = nullptr;
  }
  static std::string url(const std::string& path) { return s_server->url(path); }
  // A key no other test (or earlier run) used, for the counting routes.
  static std::string unique_key(const std::string& name) {
    static int counter = 0;
    return name + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  }
  static inline TestServer* s_server = nullptr;
};

using test_support::free_port;

}  // namespace health_testing
