#include "runner/host/nginx_config.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <regex>
#include <vector>

#include <spdlog/fmt/fmt.h>

#include "runner/util/duration.hpp"
#include "runner/util/strings.hpp"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

// A port as nginx and the kernel accept it: digits only, 1-65535.
std::optional<int> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int port = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

// Shows what a file holds in a one-line message: newlines escaped, cut short.
std::string excerpt(std::string_view text) {
  std::string shown;
  for (char c : text) {
    if (shown.size() >= 80) {
      shown += "...";
      break;
    }
    if (c == '\n') {
      shown += "\\n";
    } else if (c == '\t') {
      shown += ' ';
    } else if (static_cast<unsigned char>(c) < 0x20) {
      shown += '?';
    } else {
      shown += c;
    }
  }
  return shown;
}

// The content of a file without comments and blank lines, for messages.
std::string meaningful_content(std::string_view content) {
  std::string kept;
  size_t start = 0;
  while (start <= content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(start, end - start);
    line = trim(line.substr(0, line.find('#')));
    if (!line.empty()) {
      if (!kept.empty()) kept += ' ';
      kept += line;
    }
    start = end + 1;
  }
  return kept;
}

// One directive of the include: where its value sits in the content (so it
// can be replaced in place) and on which line.
struct IncludeDirective {
  size_t value_begin = 0;
  size_t value_end = 0;
  int line = 0;
  std::string value;
};

// How the configured format reads: the example a message shows and the
// pattern whose group 2 is the value (the port, or HOST:PORT).
struct IncludeSyntax {
  std::string example;
  std::string what;
  std::regex pattern;
};

IncludeSyntax include_syntax(const NginxSettings& settings) {
  if (settings.include_format == IncludeFormat::SetVariable) {
    return {"set $service_port 8081;", "`set $service_port PORT;`",
            std::regex(R"((^|[;\s{])set\s+\$service_port\s+([^;\s]+)\s*;)")};
  }
  return {fmt::format("server {}:8081;", settings.upstream_host), "`server HOST:PORT;`",
          std::regex(R"((^|[;\s{])server\s+([^;\s]+)[^;]*;)")};
}

std::vector<IncludeDirective> find_directives(const std::regex& pattern, std::string_view content) {
  std::vector<IncludeDirective> found;
  size_t start = 0;
  int line_number = 1;
  while (start <= content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    std::string line(content.substr(start, end - start));
    std::string code = line.substr(0, line.find('#'));
    for (auto it = std::sregex_iterator(code.begin(), code.end(), pattern);
         it != std::sregex_iterator(); ++it) {
      const std::smatch& match = *it;
      size_t begin = start + static_cast<size_t>(match.position(2));
      found.push_back(
          {begin, begin + static_cast<size_t>(match.length(2)), line_number, match.str(2)});
    }
    start = end + 1;
    ++line_number;
  }
  return found;
}

// The port part of a directive's value: the value itself for `set`, the part
// after the last ':' of HOST:PORT for `server`; with its offset in the value.
std::pair<size_t, std::string_view> port_part(const NginxSettings& settings,
                                              std::string_view value) {
  if (settings.include_format == IncludeFormat::SetVariable) return {0, value};
  size_t colon = value.rfind(':');
  if (colon == std::string_view::npos || value.find(']', colon) != std::string_view::npos) {
    return {value.size(), {}};
  }
  return {colon + 1, value.substr(colon + 1)};
}

// The one directive of the include, validated, or the error that says what
// the file holds instead.
Result<IncludeDirective> the_directive(const NginxSettings& settings, std::string_view content) {
  IncludeSyntax syntax = include_syntax(settings);
  std::string file = settings.include_file.string();
  std::vector<IncludeDirective> found = find_directives(syntax.pattern, content);
  if (found.empty()) {
    std::string held = meaningful_content(content);
    return usage_error(fmt::format(
        "{}: no {} line found ({}); write one, e.g. `{}`, or check the include format setting",
        file, syntax.what,
        held.empty() ? std::string("the file is empty")
                     : fmt::format("the file holds \"{}\"", excerpt(held)),
        syntax.example));
  }
  if (found.size() > 1) {
    std::vector<std::string> lines;
    lines.reserve(found.size());
    for (const IncludeDirective& directive : found)
      lines.push_back(std::to_string(directive.line));
    return usage_error(
        fmt::format("{}: {} {} lines (lines {}); keep exactly one, the one switchyard "
                    "switches",
                    file, found.size(), syntax.what, fmt::join(lines, ", ")));
  }
  IncludeDirective directive = found.front();
  if (!parse_port(port_part(settings, directive.value).second)) {
    return usage_error(
        fmt::format("{}:{}: \"{}\" does not end in a port (1-65535); write e.g. `{}`", file,
                    directive.line, excerpt(directive.value), syntax.example));
  }
  return directive;
}

// nginx accepts durations in ms; whole seconds read better.
std::string nginx_duration(Duration duration) {
  if (duration.count() % 1000 == 0) return fmt::format("{}s", duration.count() / 1000);
  return fmt::format("{}ms", duration.count());
}

// The nginx variable names of seamless mode. The router reads the two `set`
// ones; they are per location, so several apps can share one nginx.
constexpr const char* k_upstream_variable = "$switchyard_upstream";
constexpr const char* k_live_port_file_variable = "$switchyard_live_port_file";
constexpr const char* k_upstream_prefix_variable = "$switchyard_upstream_prefix";
constexpr const char* k_router_import_name = "switchyard_router";

std::string location_block(const NginxSettings& settings, std::string_view indent) {
  std::string target;
  std::string variables;
  switch (settings.mode) {
    case NginxMode::Reload:
      target = settings.include_format == IncludeFormat::SetVariable
                   ? fmt::format("http://{}:$service_port", settings.upstream_host)
                   : fmt::format("http://{}", settings.upstream_name);
      break;
    case NginxMode::Seamless:
      target = fmt::format("http://{}", k_upstream_variable);
      variables = fmt::format(
          "{0}    set {1} {2};\n"
          "{0}    set {3} {4};\n",
          indent, k_live_port_file_variable, settings.live_port_file.string(),
          k_upstream_prefix_variable, settings.upstream_name);
      break;
  }
  return fmt::format(
      "{0}location / {{\n"
      "{1}"
      "{0}    proxy_pass {2};\n"
      "{0}    proxy_http_version 1.1;\n"
      "{0}    proxy_set_header Connection \"\";\n"
      "{0}    proxy_set_header Host $host;\n"
      "{0}    proxy_set_header X-Real-IP $remote_addr;\n"
      "{0}    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
      "{0}    proxy_set_header X-Forwarded-Proto $scheme;\n"
      "{0}}}\n",
      indent, variables, target);
}

// One upstream per slot. The other slots are `backup` servers: nginx tries
// them only when the slot refuses the connection, which happens to a request
// that chose its slot just before a switch but connects only after the old
// slot was stopped (a POST whose body nginx was still reading, say). Such a
// request is served by the live slot instead of failing with 502.
// `max_fails=0` keeps one refused connection from marking a slot down for
// everyone. The keep-alive timeout must stay below the service's own idle
// timeout (Spring Boot's Tomcat: 60s; JDK httpserver: 30s), so that nginx,
// not the service, closes an idle connection and never sends a request down
// one the service is closing.
std::string slot_upstreams(const NginxSettings& settings, std::string_view indent) {
  std::string blocks;
  for (int port : settings.slot_ports) {
    blocks += fmt::format("{0}upstream {1} {{\n", indent, slot_upstream_name(settings, port));
    blocks +=
        fmt::format("{0}    server {1}:{2} max_fails=0;\n", indent, settings.upstream_host, port);
    for (int other : settings.slot_ports) {
      if (other == port) continue;
      blocks += fmt::format("{0}    server {1}:{2} backup max_fails=0;\n", indent,
                            settings.upstream_host, other);
    }
    blocks += fmt::format(
        "{0}    keepalive {1};\n"
        "{0}    keepalive_timeout {2};\n"
        "{0}}}\n",
        indent, settings.upstream_keepalive, nginx_duration(settings.upstream_keepalive_timeout));
  }
  return blocks;
}

std::string router_directives(const NginxSettings& settings, std::string_view indent) {
  return fmt::format(
      "{0}js_import {1} from {2};\n"
      "{0}js_set {3} {1}.upstream;\n",
      indent, k_router_import_name, router_script_path(settings).string(), k_upstream_variable);
}

}  // namespace

std::string slot_upstream_name(const NginxSettings& settings, int port) {
  return fmt::format("{}_{}", settings.upstream_name, port);
}

fs::path router_script_path(const NginxSettings& settings) {
  if (!settings.router_script.empty()) return settings.router_script;
  std::error_code error;
  fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (error) return "/usr/share/switchyard/nginx/router.js";
  // Installed: <prefix>/bin/switchyard-* beside <prefix>/share. In a build
  // tree the build copies the router to <build>/share, beside the binaries.
  fs::path installed = (executable.parent_path().parent_path() / "share/switchyard/nginx/router.js")
                           .lexically_normal();
  fs::path build_tree = executable.parent_path() / "share/switchyard/nginx/router.js";
  if (!fs::exists(installed, error) && fs::exists(build_tree, error)) return build_tree;
  return installed;
}

std::string format_include(const NginxSettings& settings, int port) {
  std::string directive = settings.include_format == IncludeFormat::SetVariable
                              ? fmt::format("set $service_port {};", port)
                              : fmt::format("server {}:{};", settings.upstream_host, port);
  return "# The live slot. switchyard-switch-traffic rewrites this file; keep one line.\n" +
         directive + "\n";
}

Result<int> parse_include(const NginxSettings& settings, std::string_view content) {
  Result<IncludeDirective> directive = the_directive(settings, content);
  if (!directive) return directive.error();
  return *parse_port(port_part(settings, directive->value).second);
}

Result<std::string> replace_include_port(const NginxSettings& settings, std::string_view content,
                                         int port) {
  Result<IncludeDirective> directive = the_directive(settings, content);
  if (!directive) return directive.error();
  size_t port_offset = port_part(settings, directive->value).first;
  std::string replaced(content.substr(0, directive->value_begin + port_offset));
  replaced += std::to_string(port);
  replaced += content.substr(directive->value_end);
  return replaced;
}

std::string format_live_port(int port) {
  return std::to_string(port) + "\n";
}

Result<int> parse_live_port(const fs::path& file, std::string_view content) {
  std::string_view held = trim(content);
  if (std::optional<int> port = parse_port(held)) return *port;
  return usage_error(fmt::format(
      "{}: expected the live port (1-65535), found {}; write the port alone, e.g. 8081",
      file.string(), held.empty() ? "an empty file" : fmt::format("\"{}\"", excerpt(held))));
}

std::string config_snippet(const NginxSettings& settings) {
  if (settings.mode == NginxMode::Reload) {
    if (settings.include_format == IncludeFormat::SetVariable) {
      return fmt::format(
          "# switchyard, reload mode: {0} holds the live port as\n"
          "#     set $service_port 8081;\n"
          "# switchyard rewrites it (temp file and rename), runs `nginx -t` and reloads.\n"
          "# Inside the server block that serves the app:\n"
          "\n"
          "    include {0};\n"
          "\n"
          "{1}",
          settings.include_file.string(), location_block(settings, "    "));
    }
    return fmt::format(
        "# switchyard, reload mode: {0} holds the live slot as\n"
        "#     server {1}:8081;\n"
        "# switchyard rewrites it (temp file and rename), runs `nginx -t` and reloads.\n"
        "# In the http block:\n"
        "\n"
        "upstream {2} {{\n"
        "    include {0};\n"
        "    keepalive {3};\n"
        "}}\n"
        "\n"
        "# Inside the server block that serves the app:\n"
        "\n"
        "{4}",
        settings.include_file.string(), settings.upstream_host, settings.upstream_name,
        settings.upstream_keepalive, location_block(settings, "    "));
  }
  return fmt::format(
      "# switchyard, seamless mode: nginx is never reloaded. The njs router reads\n"
      "# the live port from {0}\n"
      "# (which switchyard replaces atomically) on every request and picks the\n"
      "# slot's upstream, so client keep-alive connections survive a switch.\n"
      "# The nginx workers must be able to read that file.\n"
      "#\n"
      "# At the top of nginx.conf (Debian's libnginx-mod-http-js already loads it\n"
      "# through /etc/nginx/modules-enabled; then leave this line out):\n"
      "\n"
      "load_module {1};\n"
      "\n"
      "# In the http block (the js_ lines once per nginx, the upstreams once per app):\n"
      "\n"
      "{2}"
      "{3}"
      "\n"
      "# Inside the server block that serves the app:\n"
      "\n"
      "{4}",
      settings.live_port_file.string(), settings.js_module.string(),
      router_directives(settings, ""), slot_upstreams(settings, ""),
      location_block(settings, "    "));
}

std::string minimal_nginx_conf(const NginxSettings& settings, int listen_port,
                               int worker_processes) {
  fs::path prefix = settings.prefix;
  fs::path pid_file = settings.pid_file.empty() ? prefix / "nginx.pid" : settings.pid_file;
  std::string conf;
  conf +=
      "# A private nginx written by switchyard (minimal_nginx_conf): everything it\n"
      "# writes stays under its prefix.\n";
  if (settings.mode == NginxMode::Seamless) {
    conf += fmt::format("load_module {};\n", settings.js_module.string());
  }
  conf += fmt::format(
      "pid {0};\n"
      "error_log {1}/logs/error.log notice;\n"
      "worker_processes {2};\n"
      "events {{\n"
      "    worker_connections 4096;\n"
      "}}\n"
      "http {{\n"
      "    access_log off;\n"
      "    client_body_temp_path {1}/temp/client_body;\n"
      "    proxy_temp_path {1}/temp/proxy;\n"
      "    fastcgi_temp_path {1}/temp/fastcgi;\n"
      "    uwsgi_temp_path {1}/temp/uwsgi;\n"
      "    scgi_temp_path {1}/temp/scgi;\n"
      "    keepalive_timeout 65s;\n"
      "    keepalive_requests 1000000;\n",
      pid_file.string(), prefix.string(), worker_processes);

  std::string server_extra;
  if (settings.mode == NginxMode::Seamless) {
    conf += router_directives(settings, "    ");
    conf += slot_upstreams(settings, "    ");
  } else if (settings.include_format == IncludeFormat::UpstreamServer) {
    conf += fmt::format(
        "    upstream {} {{\n"
        "        include {};\n"
        "        keepalive {};\n"
        "    }}\n",
        settings.upstream_name, settings.include_file.string(), settings.upstream_keepalive);
  } else {
    server_extra = fmt::format("        include {};\n", settings.include_file.string());
  }
  conf += fmt::format(
      "    server {{\n"
      "        listen 127.0.0.1:{};\n"
      "{}"
      "{}"
      "    }}\n"
      "}}\n",
      listen_port, server_extra, location_block(settings, "        "));
  return conf;
}

std::string nginx_error_line(std::string_view output) {
  // nginx prints a problem twice when its error log is stderr (Debian's
  // default): "nginx: [emerg] MESSAGE" and "2026/11/23 15:47:27 [emerg]
  // 28066#28066: MESSAGE". Both read "[emerg] MESSAGE" here.
  static const std::regex log_prefix(
      R"(^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (\[[a-z]+\]) \d+#\d+: (\*\d+ )?)");
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string_view::npos) end = output.size();
    std::string line(trim(output.substr(start, end - start)));
    if (line.starts_with("nginx: ")) line.erase(0, 7);
    line = std::regex_replace(line, log_prefix, "$1 ", std::regex_constants::format_first_only);
    if (!line.empty()) lines.push_back(line);
    start = end + 1;
  }
  for (std::string_view level : {"[emerg]", "[alert]", "[crit]", "[error]"}) {
    for (const std::string& line : lines) {
      if (line.starts_with(level)) return line;
    }
  }
  return lines.empty() ? std::string("no output") : lines.back();
}

std::optional<fs::path> pid_directive(std::string_view conf_text) {
  // Only the main context holds `pid`; a line-anchored match is enough for
  // the configurations nginx itself accepts (a brace before it on the same
  // line would be unusual), and comments are skipped.
  static const std::regex pattern(R"(^\s*pid\s+([^;\s]+)\s*;)");
  size_t start = 0;
  while (start < conf_text.size()) {
    size_t end = conf_text.find('\n', start);
    if (end == std::string_view::npos) end = conf_text.size();
    std::string line(conf_text.substr(start, end - start));
    std::smatch match;
    if (std::regex_search(line, match, pattern)) return fs::path(match.str(1));
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace switchyard
