// The text switchyard reads and writes for nginx: the include of reload mode,
// the live-port file of seamless mode, the snippet a user adopts
// (`switch-traffic --print-nginx-config`), and a complete minimal nginx.conf
// for tests, benchmarks and the demo. Pure functions: nothing here touches the
// file system except router_script_path, which looks beside the executable.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

enum class NginxMode { Reload, Seamless };

// What the include holds in reload mode.
enum class IncludeFormat {
  SetVariable,     // set $service_port 8082;
  UpstreamServer,  // server 127.0.0.1:8082;
};

struct NginxSettings {
  NginxMode mode = NginxMode::Reload;
  std::string binary = "nginx";
  std::filesystem::path prefix;        // nginx -p (empty: nginx's default)
  std::filesystem::path conf;          // nginx -c (empty: nginx's default)
  std::filesystem::path include_file;  // reload mode
  IncludeFormat include_format = IncludeFormat::SetVariable;
  std::filesystem::path live_port_file;  // seamless mode
  std::string upstream_host = "127.0.0.1";
  Duration drain_timeout{std::chrono::seconds(30)};

  // Where the master's pid is read from (empty: the conf's `pid` directive,
  // else nginx's built-in default, /run/nginx.pid on Debian).
  std::filesystem::path pid_file;
  // How long a SIGHUP may take to bring up the new worker generation before
  // the reload counts as rejected.
  Duration reload_timeout{std::chrono::seconds(10)};
  // Names the upstream blocks of the snippet: `<upstream_name>` (reload mode,
  // `server` include) and `<upstream_name>_<port>` per slot (seamless mode).
  // Letters, digits, `_`, `-` and `.`; one per app sharing an nginx.
  std::string upstream_name = "switchyard";
  std::vector<int> slot_ports{8081, 8082};  // seamless mode: one upstream each
  int upstream_keepalive = 32;              // idle connections kept per worker and slot
  // How long nginx keeps an idle connection to a slot open. Seamless mode
  // waits for these to close before the old slot counts as drained, so this
  // bounds the drain of an old slot (see wait_drained in nginx.cpp): every
  // pooled connection goes idle at the switch. Under load a pooled connection
  // is reused within milliseconds, so a short timeout costs nothing there;
  // when traffic is sparse it costs a loopback connect per request.
  Duration upstream_keepalive_timeout{std::chrono::milliseconds(100)};
  // The njs router (empty: share/switchyard/nginx/router.js beside the
  // installed binaries) and the module that runs it.
  std::filesystem::path router_script;
  std::filesystem::path js_module = "/usr/lib/nginx/modules/ngx_http_js_module.so";
};

// The upstream block of one slot in seamless mode: "<upstream_name>_<port>".
std::string slot_upstream_name(const NginxSettings& settings, int port);

// The njs router: the setting, else share/switchyard/nginx/router.js of the
// installation the running executable belongs to (`<bin>/../share/...`).
std::filesystem::path router_script_path(const NginxSettings& settings);

// The include of reload mode as switchyard writes it when none exists yet:
// a comment and `set $service_port N;` or `server HOST:N;`.
std::string format_include(const NginxSettings& settings, int port);

// The port in include `content` (read from settings.include_file, which the
// errors name). Exactly one directive of the configured format must be there;
// anything else is an error (exit 2) that says what was found.
Result<int> parse_include(const NginxSettings& settings, std::string_view content);

// `content` with the port of its one directive replaced by `port`; comments
// and every other line are kept as the user wrote them.
Result<std::string> replace_include_port(const NginxSettings& settings, std::string_view content,
                                         int port);

// The live-port file of seamless mode: the port and a newline.
std::string format_live_port(int port);

// The port in live-port file `content` read from `file`; exit 2 naming the
// file and what it holds when that is not a port.
Result<int> parse_live_port(const std::filesystem::path& file, std::string_view content);

// What a user adds to the nginx they already run, for the configured mode,
// with the real paths, as comments and directives ready to paste.
std::string config_snippet(const NginxSettings& settings);

// A complete nginx.conf that runs nginx privately under settings.prefix
// (pid, logs and temp paths inside it) and serves the app on
// 127.0.0.1:`listen_port` in the configured mode. For tests, benchmarks and
// the demo; it never refers to the system nginx's files.
std::string minimal_nginx_conf(const NginxSettings& settings, int listen_port,
                               int worker_processes = 2);

// The line of `nginx -t` output a person needs: the first [emerg], [alert],
// [crit] or [error] line without the "nginx: " prefix, else the last line.
std::string nginx_error_line(std::string_view output);

// The `pid` directive of `conf_text` (main context), if any.
std::optional<std::filesystem::path> pid_directive(std::string_view conf_text);

}  // namespace switchyard
