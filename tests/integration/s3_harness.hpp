// s3rver (npm, pinned in tests/node/package.json) behind the recording fault
// proxy (tests/support/s3_fault_proxy.py), both started on free loopback
// ports in a temp directory, for the artifact-store integration tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "runner/net/http.hpp"
#include "tests/support/free_port.hpp"

namespace switchyard::stores_test {

namespace fs = std::filesystem;

using test_support::free_port;

inline bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return open;
}

// Starts `argv` in its own process group with output appended to `log`.
inline pid_t spawn(const std::vector<std::string>& argv, const fs::path& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    FILE* out = std::fopen(log.c_str(), "a");
    if (out != nullptr) {
      ::dup2(::fileno(out), 1);
      ::dup2(::fileno(out), 2);
    }
    std::vector<char*> args;
    for (const auto& arg : argv)
      args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

inline std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_random_file(const fs::path& path, std::uint64_t size, unsigned seed) {
  std::ofstream out(path, std::ios::binary);
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  std::vector<char> block(1 << 16);
  for (std::uint64_t written = 0; written < size;) {
    for (auto& byte : block) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      byte = static_cast<char>(state);
    }
    auto n = std::min<std::uint64_t>(block.size(), size - written);
    out.write(block.data(), static_cast<std::streamsize>(n));
    written += n;
  }
}

// One recorded request.
struct RecordedRequest {
  std::string method;
  std::string path;
  std::string query;
  boost::json::object headers;
  std::uint64_t body_size = 0;
  std::string body_sha256_base64;
  std::optional<bool> checksum_ok;
  std::optional<long> status;  // none for a dropped connection
  std::string header(const std::string& name) const {
    auto* value = headers.if_contains(name);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
  }
};

class S3rverWithProxy {
 public:
  // Why the peers cannot run here, or "" when they can.
  static std::string missing_peer() {
    if (!fs::exists(s3rver_script())) {
      return "s3rver is not installed (run scripts/setup, which installs tests/node)";
    }
    if (std::system("command -v node >/dev/null 2>&1") != 0) return "node is not installed";
    if (!fs::exists("/usr/bin/python3")) return "/usr/bin/python3 is missing";
    return "";
  }

  static fs::path s3rver_script() {
    return fs::path(SWITCHYARD_SOURCE_DIR) / "tests/node/node_modules/s3rver/bin/s3rver.js";
  }

  bool start(const std::string& bucket = "artifacts") {
    char pattern[] = "/tmp/switchyard-s3rver-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) return false;
    m_directory = pattern;
    fs::create_directories(m_directory / "data");
    m_s3rver_port = free_port();
    m_s3rver = spawn({"node", s3rver_script().string(), "--directory",
                      (m_directory / "data").string(), "--port", std::to_string(m_s3rver_port),
                      "--address", "127.0.0.1", "--silent", "--configure-bucket", bucket},
                     m_directory / "s3rver.log");
    auto port_file = m_directory / "proxy.port";
    m_proxy = spawn({"/usr/bin/python3",
                     (fs::path(SWITCHYARD_SOURCE_DIR) / "tests/support/s3_fault_proxy.py").string(),
                     "--upstream", "http://127.0.0.1:" + std::to_string(m_s3rver_port), "--log",
                     log_path().string(), "--port-file", port_file.string()},
                    m_directory / "proxy.log");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (m_proxy_port == 0 && fs::exists(port_file))
        m_proxy_port = std::stoi(read_text(port_file));
      if (m_proxy_port != 0 && port_open(m_s3rver_port) && port_open(m_proxy_port)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  void stop() {
    for (pid_t pid : {m_proxy, m_s3rver}) {
      if (pid > 0) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
    m_proxy = m_s3rver = 0;
    if (!m_directory.empty()) fs::remove_all(m_directory);
  }

  ~S3rverWithProxy() { stop(); }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(m_proxy_port); }
  std::string direct_endpoint() const {
    return "http://127.0.0.1:" + std::to_string(m_s3rver_port);
  }
  fs::path log_path() const { return m_directory / "requests.jsonl"; }
  const fs::path& directory() const { return m_directory; }

  // Queues a fault (see s3_fault_proxy.py, class Fault).
  void inject(const std::string& fault_json) const { control("/__proxy/fault", fault_json); }
  void reset_faults() const { control("/__proxy/reset", ""); }
  void clear_log() const { std::ofstream(log_path(), std::ios::trunc); }

  std::vector<RecordedRequest> requests() const {
    std::vector<RecordedRequest> out;
    std::istringstream lines(read_text(log_path()));
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      auto object = boost::json::parse(line).as_object();
      RecordedRequest request;
      request.method = std::string(object["method"].as_string());
      request.path = std::string(object["path"].as_string());
      request.query = std::string(object["query"].as_string());
      request.headers = object["headers"].as_object();
      request.body_size = object["body_size"].to_number<std::uint64_t>();
      request.body_sha256_base64 = std::string(object["body_sha256_base64"].as_string());
      if (object["checksum_ok"].is_bool()) request.checksum_ok = object["checksum_ok"].as_bool();
      if (object["status"].is_int64()) request.status = object["status"].as_int64();
      out.push_back(std::move(request));
    }
    return out;
  }

 private:
  void control(const std::string& path, const std::string& body) const {
    HttpRequest request;
    request.method = "POST";
    request.url = endpoint() + path;
    request.body = body;
    http_send(request);
  }

  fs::path m_directory;
  int m_s3rver_port = 0;
  int m_proxy_port = 0;
  pid_t m_s3rver = 0;
  pid_t m_proxy = 0;
};

// Credentials s3rver accepts (it checks signatures against S3RVER/S3RVER),
// and nothing from the machine's own AWS set-up.
inline void use_s3rver_credentials(const fs::path& home) {
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  ::setenv("AWS_REGION", "us-east-1", 1);
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", (home / "credentials").c_str(), 1);
  ::setenv("AWS_CONFIG_FILE", (home / "config").c_str(), 1);
  ::unsetenv("AWS_SESSION_TOKEN");
  ::unsetenv("AWS_PROFILE");
  ::unsetenv("AWS_ROLE_ARN");
  ::unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
}

inline void forget_s3rver_credentials() {
  for (const char* name :
       {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_EC2_METADATA_DISABLED", "AWS_REGION",
        "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"}) {
    ::unsetenv(name);
  }
}

}  // namespace switchyard::stores_test
