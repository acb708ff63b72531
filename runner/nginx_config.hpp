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

#include "runner/nginx.hpp"
#include "runner/result.hpp"

namespace switchyard {

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
