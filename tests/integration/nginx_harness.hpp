// A private nginx for tests, benchmarks and the demo: it runs from a temp
// prefix with its own conf, pid file, error log and temp paths, on a free
// loopback port, and is stopped on destruction. It never reads or signals the
// system nginx (/etc/nginx, /run/nginx.pid). Also here: tiny loopback HTTP
// backends (Python) that answer with their own port, and a raw keep-alive
// HTTP/1.1 client, so a test can see which slot served each request and on
// which connection.
//
// Header-only; everything lives in namespace nginx_harness.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "runner/host/nginx.hpp"
#include "runner/host/nginx_config.hpp"
#include "runner/util/atomic_file.hpp"
#include "runner/util/process.hpp"
#include "tests/support/free_port.hpp"

extern char** environ;

namespace nginx_harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline const fs::path k_nginx_binary = "/usr/sbin/nginx";
inline const fs::path k_js_module = "/usr/lib/nginx/modules/ngx_http_js_module.so";
inline const fs::path k_python = "/usr/bin/python3";

// The router as the source tree has it (tests run from the build tree, where
// nothing is installed).
inline fs::path source_router_script() {
  return fs::path(SWITCHYARD_SOURCE_DIR) / "runner/host/nginx/router.js";
}

// Why nginx (and, when `need_njs`, its js module) cannot run here; nullopt
// when it can. Tests GTEST_SKIP() with this reason.
inline std::optional<std::string> why_unavailable(bool need_njs) {
  if (!fs::exists(k_nginx_binary)) {
    return k_nginx_binary.string() + " not found; apt-get install -y nginx";
  }
  if (need_njs && !fs::exists(k_js_module)) {
    return k_js_module.string() + " not found; apt-get install -y libnginx-mod-http-js";
  }
  if (!fs::exists(k_python)) return k_python.string() + " not found; apt-get install -y python3";
  return std::nullopt;
}

using test_support::free_port;

// Listens on a free loopback port (and accepts nothing) while it lives, so
// that nginx cannot bind it.
class PortHolder {
 public:
  PortHolder() : m_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        ::listen(m_fd, 1) == 0 &&
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      m_port = ntohs(address.sin_port);
    }
  }
  ~PortHolder() { ::close(m_fd); }
  PortHolder(const PortHolder&) = delete;
  PortHolder& operator=(const PortHolder&) = delete;
  int port() const { return m_port; }

 private:
  int m_fd;
  int m_port = 0;
};

// A connected loopback socket to `port`, or -1.
inline int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Waits up to `timeout` until something accepts connections on `port`.
inline bool wait_listening(int port, std::chrono::milliseconds timeout = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = connect_loopback(port);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

// True while `pid` runs (a zombie has finished).
inline bool running(pid_t pid) {
  auto stat = switchyard::read_process_stat(pid);
  return stat && !stat->dead();
}

inline std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Starts `argv` with stdout and stderr to `log` (or inherited when empty).
inline pid_t spawn(const std::vector<std::string>& argv, const fs::path& log = {}) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!log.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// A temp directory, world-traversable so that nginx workers (which drop to
// `nobody` when the tests run as root) can read the live-port file in it.
class TempDir {
 public:
  explicit TempDir(std::string_view label = "switchyard-nginx") {
    std::string templ = (fs::temp_directory_path() / (std::string(label) + "-XXXXXX")).string();
    if (::mkdtemp(templ.data()) != nullptr) {
      m_path = templ;
      ::chmod(m_path.c_str(), 0755);
    }
  }
  ~TempDir() {
    std::error_code error;
    if (!m_path.empty()) fs::remove_all(m_path, error);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return m_path; }

 private:
  fs::path m_path;
};

// A tiny HTTP/1.1 keep-alive server on 127.0.0.1:port that answers every GET
// with "port N" and an X-Backend-Port header; GET /sleep/MS answers after MS
// milliseconds (an in-flight request to hold a connection open).
class Backend {
 public:
  explicit Backend(int port) : m_port(port) {
    static const char* k_script = R"PY(
import http.server, sys, time
port = int(sys.argv[1])
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # One write per response, sent at once: headers and body in separate
    # segments would meet delayed ACKs on a kept-alive connection (40 ms each).
    wbufsize = -1
    disable_nagle_algorithm = True
    def do_GET(self):
        if self.path.startswith('/sleep/'):
            time.sleep(int(self.path[len('/sleep/'):]) / 1000.0)
        body = ('port %d\n' % port).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.send_header('X-Backend-Port', str(port))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops connections under load, and a dropped
    # SYN waits a second for its retransmission.
    request_queue_size = 128
Server(('127.0.0.1', port), Handler).serve_forever()
)PY";
    m_pid = spawn({k_python.string(), "-c", k_script, std::to_string(port)});
    m_ready = m_pid > 0 && wait_listening(port);
  }
  ~Backend() { stop(); }
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  bool ready() const { return m_ready; }
  int port() const { return m_port; }
  void stop() {
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGKILL);
    ::waitpid(m_pid, nullptr, 0);
    m_pid = -1;
  }

 private:
  int m_port;
  pid_t m_pid = -1;
  bool m_ready = false;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// One client connection to 127.0.0.1:port, kept alive across requests; a
// request fails (nullopt) rather than reconnecting, so a test sees whether
// the connection survived.
class KeepAliveClient {
 public:
  explicit KeepAliveClient(int port) : m_fd(connect_loopback(port)) {
    if (m_fd >= 0) {
      timeval timeout{10, 0};
      ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    }
  }
  ~KeepAliveClient() {
    if (m_fd >= 0) ::close(m_fd);
  }
  KeepAliveClient(const KeepAliveClient&) = delete;
  KeepAliveClient& operator=(const KeepAliveClient&) = delete;

  bool connected() const { return m_fd >= 0; }

  std::optional<Response> get(const std::string& path) {
    if (m_fd < 0) return std::nullopt;
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    if (::send(m_fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      return std::nullopt;
    }
    return read_response();
  }

 private:
  bool fill() {
    char chunk[4096];
    ssize_t got = ::recv(m_fd, chunk, sizeof(chunk), 0);
    if (got <= 0) return false;
    m_buffer.append(chunk, static_cast<size_t>(got));
    return true;
  }

  std::optional<Response> read_response() {
    size_t header_end;
    while ((header_end = m_buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    Response response;
    std::istringstream head(m_buffer.substr(0, header_end));
    std::string line;
    std::getline(head, line);
    if (line.size() < 12) return std::nullopt;
    response.status = std::stoi(line.substr(9, 3));
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      size_t value = line.find_first_not_of(' ', colon + 1);
      response.headers[name] = value == std::string::npos ? "" : line.substr(value);
    }
    size_t length = std::stoul(
        response.header("content-length").empty() ? "0" : response.header("content-length"));
    size_t body_start = header_end + 4;
    while (m_buffer.size() < body_start + length) {
      if (!fill()) return std::nullopt;
    }
    response.body = m_buffer.substr(body_start, length);
    m_buffer.erase(0, body_start + length);
    return response;
  }

  int m_fd;
  std::string m_buffer;
};

// One GET on a fresh connection.
inline std::optional<Response> get_once(int port, const std::string& path) {
  KeepAliveClient client(port);
  return client.get(path);
}

// Keep-alive clients hammering nginx while the test switches: every response
// is counted by status, and every connection that breaks is a socket error
// (the client then reconnects).
class Load {
 public:
  // `fresh_connections`: one request per connection (a reload then never
  // closes a connection under a client; every failure is a real one).
  Load(int port, int connections, bool fresh_connections = false)
      : m_fresh_connections(fresh_connections) {
    for (int i = 0; i < connections; ++i) {
      m_threads.emplace_back([this, port] { run(port); });
    }
  }
  ~Load() { stop(); }
  void stop() {
    m_stop = true;
    for (std::thread& thread : m_threads) {
      if (thread.joinable()) thread.join();
    }
  }
  long requests() const { return m_requests; }
  long non_2xx() const { return m_non_2xx; }
  long socket_errors() const { return m_socket_errors; }
  long polite_closes() const { return m_polite_closes; }
  // Requests that did not get a 2xx answer: the fault matrix's bar is 0.
  long failed() const { return m_non_2xx + m_socket_errors; }

 private:
  void run(int port) {
    auto client = std::make_unique<KeepAliveClient>(port);
    while (!m_stop) {
      auto response = client->get("/");
      if (!response) {
        ++m_socket_errors;
        client = std::make_unique<KeepAliveClient>(port);
        continue;
      }
      ++m_requests;
      if (response->status < 200 || response->status > 299) ++m_non_2xx;
      // A server may end a keep-alive connection politely; clients such as
      // wrk then reconnect without an error, and so does this one.
      if (m_fresh_connections || response->header("connection") == "close") {
        ++m_polite_closes;
        client = std::make_unique<KeepAliveClient>(port);
      }
    }
  }

  bool m_fresh_connections = false;
  std::atomic<bool> m_stop{false};
  std::atomic<long> m_requests{0};
  std::atomic<long> m_non_2xx{0};
  std::atomic<long> m_socket_errors{0};
  std::atomic<long> m_polite_closes{0};
  std::vector<std::thread> m_threads;
};

struct NginxOptions {
  switchyard::NginxMode mode = switchyard::NginxMode::Reload;
  switchyard::IncludeFormat include_format = switchyard::IncludeFormat::SetVariable;
  std::vector<int> slot_ports;  // the backends' ports
  int live_port = 0;            // where traffic goes at start
  int worker_processes = 1;
  std::chrono::milliseconds drain_timeout = 5000ms;
  std::chrono::milliseconds reload_timeout = 5000ms;
  std::chrono::milliseconds upstream_keepalive_timeout = 250ms;
};

// nginx started from a temp prefix: conf from minimal_nginx_conf, the include
// (reload mode) or live-port file (seamless mode) written first.
class PrivateNginx {
 public:
  explicit PrivateNginx(const NginxOptions& options) : m_prefix("switchyard-nginx") {
    const fs::path& prefix = m_prefix.path();
    fs::create_directories(prefix / "logs");
    fs::create_directories(prefix / "temp");
    m_settings.mode = options.mode;
    m_settings.binary = k_nginx_binary.string();
    m_settings.prefix = prefix;
    m_settings.conf = prefix / "nginx.conf";
    m_settings.pid_file = prefix / "nginx.pid";
    m_settings.include_file = prefix / "live-slot.conf";
    m_settings.include_format = options.include_format;
    m_settings.live_port_file = prefix / "live-port";
    m_settings.slot_ports = options.slot_ports;
    m_settings.drain_timeout = options.drain_timeout;
    m_settings.reload_timeout = options.reload_timeout;
    m_settings.upstream_keepalive_timeout = options.upstream_keepalive_timeout;
    m_settings.router_script = source_router_script();
    m_settings.js_module = k_js_module;
    m_port = free_port();

    if (options.mode == switchyard::NginxMode::Reload) {
      write(m_settings.include_file, switchyard::format_include(m_settings, options.live_port));
    } else {
      write(m_settings.live_port_file, switchyard::format_live_port(options.live_port));
    }
    write(m_settings.conf,
          switchyard::minimal_nginx_conf(m_settings, m_port, options.worker_processes));
  }
  ~PrivateNginx() { stop(); }
  PrivateNginx(const PrivateNginx&) = delete;
  PrivateNginx& operator=(const PrivateNginx&) = delete;

  // Starts nginx and waits until it accepts connections; "" on success, else
  // what went wrong with nginx's own output.
  std::string start() {
    fs::path start_log = m_prefix.path() / "logs/start.log";
    pid_t launcher =
        spawn({m_settings.binary, "-p", m_settings.prefix.string(), "-c", m_settings.conf.string(),
               "-e", (m_prefix.path() / "logs/error.log").string()},
              start_log);
    if (launcher < 0) return "cannot start " + m_settings.binary;
    int status = 0;
    ::waitpid(launcher, &status, 0);  // nginx forks its master and exits
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return "nginx did not start: " + read_text(start_log);
    }
    m_started = true;
    if (!wait_listening(m_port)) return "nginx does not listen: " + error_log();
    return {};
  }

  // Fast shutdown (SIGTERM), then SIGKILL for whatever is left after 5 s.
  void stop() {
    if (!m_started) return;
    m_started = false;
    pid_t master = master_pid();
    if (master <= 0) return;
    std::vector<pid_t> workers = worker_pids();
    ::kill(master, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (running(master) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    if (running(master)) ::kill(master, SIGKILL);
    for (pid_t worker : workers) {
      if (running(worker)) ::kill(worker, SIGKILL);
    }
  }

  const switchyard::NginxSettings& settings() const { return m_settings; }
  switchyard::Nginx nginx() const { return switchyard::Nginx(m_settings); }
  int port() const { return m_port; }
  const fs::path& prefix() const { return m_prefix.path(); }
  std::string error_log() const { return read_text(m_prefix.path() / "logs/error.log"); }

  pid_t master_pid() const {
    std::string text = read_text(m_settings.pid_file);
    return text.empty() ? -1 : std::stoi(text);
  }
  std::vector<pid_t> worker_pids() const { return nginx().worker_pids(); }

  // Rewrites nginx.conf (a test that breaks the configuration on purpose).
  void write_conf(const std::string& text) const { write(m_settings.conf, text); }

 private:
  static void write(const fs::path& path, const std::string& text) {
    (void)switchyard::write_file_atomically(path, text);
  }

  TempDir m_prefix;
  switchyard::NginxSettings m_settings;
  int m_port = 0;
  bool m_started = false;
};

}  // namespace nginx_harness
