#include "runner/host/nginx_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runner/host/nginx.hpp"
#include "runner/util/atomic_file.hpp"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

NginxSettings set_variable_settings() {
  NginxSettings settings;
  settings.include_file = "/etc/nginx/switchyard/hello.conf";
  settings.live_port_file = "/var/lib/switchyard/hello/live-port";
  settings.upstream_name = "hello";
  return settings;
}

NginxSettings upstream_server_settings() {
  NginxSettings settings = set_variable_settings();
  settings.include_format = IncludeFormat::UpstreamServer;
  return settings;
}

NginxSettings seamless_settings() {
  NginxSettings settings = set_variable_settings();
  settings.mode = NginxMode::Seamless;
  settings.router_script = "/usr/share/switchyard/nginx/router.js";
  return settings;
}

TEST(NginxInclude, FormatsBothDirectivesWithAComment) {
  EXPECT_EQ(format_include(set_variable_settings(), 8082),
            "# The live slot. switchyard-switch-traffic rewrites this file; keep one line.\n"
            "set $service_port 8082;\n");
  EXPECT_EQ(format_include(upstream_server_settings(), 8081),
            "# The live slot. switchyard-switch-traffic rewrites this file; keep one line.\n"
            "server 127.0.0.1:8081;\n");
}

TEST(NginxInclude, ParsesWhatItFormats) {
  for (int port : {1, 8081, 65535}) {
    EXPECT_EQ(
        *parse_include(set_variable_settings(), format_include(set_variable_settings(), port)),
        port);
    EXPECT_EQ(*parse_include(upstream_server_settings(),
                             format_include(upstream_server_settings(), port)),
              port);
  }
}

TEST(NginxInclude, ParsesTheWaysUsersWriteIt) {
  NginxSettings settings = set_variable_settings();
  EXPECT_EQ(*parse_include(settings, "set $service_port 8082;"), 8082);
  EXPECT_EQ(*parse_include(settings, "  set   $service_port\t8082 ;  # live\n"), 8082);
  EXPECT_EQ(*parse_include(settings, "# set $service_port 8081;\nset $service_port 8082;\n"), 8082);
  EXPECT_EQ(*parse_include(settings, "set $other 1; set $service_port 8082;\n"), 8082);

  NginxSettings upstream = upstream_server_settings();
  EXPECT_EQ(*parse_include(upstream, "server 127.0.0.1:8082;\n"), 8082);
  EXPECT_EQ(*parse_include(upstream, "server 127.0.0.1:8082 max_fails=0 weight=2;\n"), 8082);
  EXPECT_EQ(*parse_include(upstream, "server [::1]:8082;\n"), 8082);
  EXPECT_EQ(*parse_include(upstream, "server localhost:8082;  # blue\n"), 8082);
}

TEST(NginxInclude, NoDirectiveSaysWhatTheFileHolds) {
  auto empty = parse_include(set_variable_settings(), "# nothing here\n\n");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ExitCode::Usage);
  EXPECT_EQ(empty.error().message,
            "/etc/nginx/switchyard/hello.conf: no `set $service_port PORT;` line found (the file "
            "is empty); write one, e.g. `set $service_port 8081;`, or check the include format "
            "setting");

  auto other_format = parse_include(set_variable_settings(), "server 127.0.0.1:8081;\n");
  ASSERT_FALSE(other_format);
  EXPECT_EQ(other_format.error().message,
            "/etc/nginx/switchyard/hello.conf: no `set $service_port PORT;` line found (the file "
            "holds \"server 127.0.0.1:8081;\"); write one, e.g. `set $service_port 8081;`, or "
            "check the include format setting");

  auto set_format = parse_include(upstream_server_settings(), "set $service_port 8081;\n");
  ASSERT_FALSE(set_format);
  EXPECT_EQ(set_format.error().message,
            "/etc/nginx/switchyard/hello.conf: no `server HOST:PORT;` line found (the file holds "
            "\"set $service_port 8081;\"); write one, e.g. `server 127.0.0.1:8081;`, or check the "
            "include format setting");
}

TEST(NginxInclude, TwoDirectivesAreRefusedNamingTheLines) {
  auto two = parse_include(upstream_server_settings(),
                           "server 127.0.0.1:8081;\n# blue\nserver 127.0.0.1:8082;\n");
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code, ExitCode::Usage);
  EXPECT_EQ(two.error().message,
            "/etc/nginx/switchyard/hello.conf: 2 `server HOST:PORT;` lines (lines 1, 3); keep "
            "exactly one, the one switchyard switches");
}

TEST(NginxInclude, AValueThatIsNotAPortIsRefusedNamingTheLine) {
  auto word = parse_include(set_variable_settings(), "# live\nset $service_port blue;\n");
  ASSERT_FALSE(word);
  EXPECT_EQ(word.error().code, ExitCode::Usage);
  EXPECT_EQ(word.error().message,
            "/etc/nginx/switchyard/hello.conf:2: \"blue\" does not end in a port (1-65535); write "
            "e.g. `set $service_port 8081;`");

  for (const char* bad : {"set $service_port 0;", "set $service_port 65536;",
                          "set $service_port -80;", "set $service_port 80a;"}) {
    EXPECT_FALSE(parse_include(set_variable_settings(), bad)) << bad;
  }
  auto unix_socket = parse_include(upstream_server_settings(), "server unix:/run/app.sock;\n");
  ASSERT_FALSE(unix_socket);
  EXPECT_EQ(unix_socket.error().message,
            "/etc/nginx/switchyard/hello.conf:1: \"unix:/run/app.sock\" does not end in a port "
            "(1-65535); write e.g. `server 127.0.0.1:8081;`");
  EXPECT_FALSE(parse_include(upstream_server_settings(), "server 127.0.0.1;\n"));
  EXPECT_FALSE(parse_include(upstream_server_settings(), "server [::1];\n"));
}

TEST(NginxInclude, ReplacingThePortKeepsEverythingElse) {
  std::string mine = "# blue/green, see RUNBOOK.md\nset $service_port 8081; # live\n\n";
  EXPECT_EQ(*replace_include_port(set_variable_settings(), mine, 8082),
            "# blue/green, see RUNBOOK.md\nset $service_port 8082; # live\n\n");
  EXPECT_EQ(*replace_include_port(upstream_server_settings(),
                                  "  server localhost:8081 max_fails=0;\n", 18082),
            "  server localhost:18082 max_fails=0;\n");
  auto broken = replace_include_port(set_variable_settings(), "garbage", 8082);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, ExitCode::Usage);
}

TEST(NginxLivePort, ParsesThePortAlone) {
  EXPECT_EQ(format_live_port(8082), "8082\n");
  EXPECT_EQ(*parse_live_port("/x/live-port", "8082\n"), 8082);
  EXPECT_EQ(*parse_live_port("/x/live-port", "  8081  "), 8081);
}

TEST(NginxLivePort, AnythingElseIsRefusedSayingWhatItHolds) {
  auto empty = parse_live_port("/x/live-port", "\n");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ExitCode::Usage);
  EXPECT_EQ(empty.error().message,
            "/x/live-port: expected the live port (1-65535), found an empty file; write the port "
            "alone, e.g. 8081");
  auto word = parse_live_port("/x/live-port", "port=8081\nmore\n");
  ASSERT_FALSE(word);
  EXPECT_EQ(word.error().message,
            "/x/live-port: expected the live port (1-65535), found \"port=8081\\nmore\"; write the "
            "port alone, e.g. 8081");
  EXPECT_FALSE(parse_live_port("/x/live-port", "99999"));
  EXPECT_FALSE(parse_live_port("/x/live-port", "0"));
}

TEST(NginxSnippet, ReloadWithTheSetVariableInclude) {
  EXPECT_EQ(config_snippet(set_variable_settings()),
            "# switchyard, reload mode: /etc/nginx/switchyard/hello.conf holds the live port as\n"
            "#     set $service_port 8081;\n"
            "# switchyard rewrites it (temp file and rename), runs `nginx -t` and reloads.\n"
            "# Inside the server block that serves the app:\n"
            "\n"
            "    include /etc/nginx/switchyard/hello.conf;\n"
            "\n"
            "    location / {\n"
            "        proxy_pass http://127.0.0.1:$service_port;\n"
            "        proxy_http_version 1.1;\n"
            "        proxy_set_header Connection \"\";\n"
            "        proxy_set_header Host $host;\n"
            "        proxy_set_header X-Real-IP $remote_addr;\n"
            "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
            "        proxy_set_header X-Forwarded-Proto $scheme;\n"
            "    }\n");
}

TEST(NginxSnippet, ReloadWithTheUpstreamServerInclude) {
  std::string snippet = config_snippet(upstream_server_settings());
  EXPECT_NE(snippet.find("upstream hello {\n"
                         "    include /etc/nginx/switchyard/hello.conf;\n"
                         "    keepalive 32;\n"
                         "}\n"),
            std::string::npos)
      << snippet;
  EXPECT_NE(snippet.find("        proxy_pass http://hello;\n"), std::string::npos) << snippet;
  EXPECT_NE(snippet.find("#     server 127.0.0.1:8081;\n"), std::string::npos) << snippet;
}

TEST(NginxSnippet, SeamlessHasTheModuleRouterUpstreamsAndLocation) {
  NginxSettings settings = seamless_settings();
  settings.slot_ports = {9001, 9002};
  settings.upstream_keepalive_timeout = std::chrono::seconds(2);
  std::string snippet = config_snippet(settings);
  for (const char* expected : {
           "load_module /usr/lib/nginx/modules/ngx_http_js_module.so;\n",
           "js_import switchyard_router from /usr/share/switchyard/nginx/router.js;\n"
           "js_set $switchyard_upstream switchyard_router.upstream;\n",
           "upstream hello_9001 {\n"
           "    server 127.0.0.1:9001 max_fails=0;\n"
           "    server 127.0.0.1:9002 backup max_fails=0;\n"
           "    keepalive 32;\n"
           "    keepalive_timeout 2s;\n"
           "}\n"
           "upstream hello_9002 {\n"
           "    server 127.0.0.1:9002 max_fails=0;\n"
           "    server 127.0.0.1:9001 backup max_fails=0;\n",
           "    location / {\n"
           "        set $switchyard_live_port_file /var/lib/switchyard/hello/live-port;\n"
           "        set $switchyard_upstream_prefix hello;\n"
           "        proxy_pass http://$switchyard_upstream;\n"
           "        proxy_http_version 1.1;\n"
           "        proxy_set_header Connection \"\";\n",
       }) {
    EXPECT_NE(snippet.find(expected), std::string::npos) << expected << "\nin:\n" << snippet;
  }
  EXPECT_EQ(snippet.find("include "), std::string::npos);
}

TEST(NginxSnippet, RouterScriptDefaultsToTheInstallationOfTheRunningBinary) {
  NginxSettings settings;
  fs::path exe = fs::read_symlink("/proc/self/exe");
  EXPECT_EQ(
      router_script_path(settings),
      (exe.parent_path().parent_path() / "share/switchyard/nginx/router.js").lexically_normal());
  settings.router_script = "/opt/router.js";
  EXPECT_EQ(router_script_path(settings), "/opt/router.js");
  EXPECT_EQ(slot_upstream_name(seamless_settings(), 8082), "hello_8082");
}

TEST(NginxMinimalConf, KeepsEverythingUnderThePrefix) {
  NginxSettings settings = seamless_settings();
  settings.prefix = "/tmp/private";
  std::string conf = minimal_nginx_conf(settings, 18080, 3);
  for (const char* expected :
       {"load_module /usr/lib/nginx/modules/ngx_http_js_module.so;\n",
        "pid /tmp/private/nginx.pid;\n", "error_log /tmp/private/logs/error.log notice;\n",
        "worker_processes 3;\n", "client_body_temp_path /tmp/private/temp/client_body;\n",
        "proxy_temp_path /tmp/private/temp/proxy;\n", "listen 127.0.0.1:18080;\n",
        "upstream hello_8081 {\n", "proxy_pass http://$switchyard_upstream;\n"}) {
    EXPECT_NE(conf.find(expected), std::string::npos) << expected << "\nin:\n" << conf;
  }
  EXPECT_EQ(conf.find("/var/"), conf.find("/var/lib/switchyard/hello/live-port"));
  EXPECT_EQ(conf.find("/etc/nginx"), std::string::npos);

  settings.pid_file = "/tmp/elsewhere.pid";
  EXPECT_NE(minimal_nginx_conf(settings, 18080).find("pid /tmp/elsewhere.pid;\n"),
            std::string::npos);

  NginxSettings reload = set_variable_settings();
  reload.prefix = "/tmp/private";
  conf = minimal_nginx_conf(reload, 18080);
  EXPECT_EQ(conf.find("load_module"), std::string::npos);
  EXPECT_NE(conf.find("        include /etc/nginx/switchyard/hello.conf;\n"), std::string::npos);
}

TEST(NginxErrorLine, PicksTheFirstProblemWithoutPrefixes) {
  EXPECT_EQ(nginx_error_line("nginx: [emerg] unknown directive \"sett\" in /x.conf:3\n"
                             "nginx: configuration file /y.conf test failed\n"),
            "[emerg] unknown directive \"sett\" in /x.conf:3");
  EXPECT_EQ(nginx_error_line("2026/11/23 15:47:27 [emerg] 28066#28066: unknown directive \"sett\" "
                             "in /x.conf:3\n"
                             "nginx: [emerg] unknown directive \"sett\" in /x.conf:3\n"),
            "[emerg] unknown directive \"sett\" in /x.conf:3");
  EXPECT_EQ(nginx_error_line("nginx: [warn] low\nnginx: [alert] high\n"), "[alert] high");
  EXPECT_EQ(nginx_error_line("something odd\nlast words\n"), "last words");
  EXPECT_EQ(nginx_error_line(""), "no output");
}

TEST(NginxPidDirective, ReadsTheMainContextPid) {
  EXPECT_EQ(pid_directive("user www-data;\npid /run/nginx.pid;\nevents {}\n"),
            fs::path("/run/nginx.pid"));
  EXPECT_EQ(pid_directive("  pid   logs/nginx.pid ;"), fs::path("logs/nginx.pid"));
  EXPECT_EQ(pid_directive("# pid /nope;\nevents {}\n"), std::nullopt);
}

// The parts of Nginx that fail before nginx is involved: these need no nginx.
class NginxFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "switchyard-nginx-unit-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    m_dir = templ;
    m_settings.include_file = m_dir / "live.conf";
    m_settings.live_port_file = m_dir / "live-port";
    m_settings.pid_file = m_dir / "nginx.pid";
    m_settings.binary = "/nonexistent/nginx";
  }
  void TearDown() override { fs::remove_all(m_dir); }

  static std::string read(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }

  fs::path m_dir;
  NginxSettings m_settings;
};

TEST_F(NginxFilesTest, LivePortOfAMissingIncludeSaysHowToCreateIt) {
  auto port = Nginx(m_settings).live_port();
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().code, ExitCode::Usage);
  EXPECT_EQ(port.error().message,
            (m_dir / "live.conf").string() +
                ": cannot read the nginx include (No such file or directory); create it with the "
                "live port, e.g. `set $service_port 8081;`");
}

TEST_F(NginxFilesTest, LivePortOfAMissingLivePortFileSaysHowToCreateIt) {
  m_settings.mode = NginxMode::Seamless;
  auto port = Nginx(m_settings).live_port();
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().code, ExitCode::Usage);
  EXPECT_EQ(port.error().message,
            (m_dir / "live-port").string() +
                ": cannot read the live port (No such file or directory); create it holding the "
                "live port, e.g. 8081");
  ASSERT_TRUE(write_file_atomically(m_settings.live_port_file, "8082\n"));
  EXPECT_EQ(*Nginx(m_settings).live_port(), 8082);
}

TEST_F(NginxFilesTest, SwitchRefusesAMalformedIncludeAndLeavesItAlone) {
  ASSERT_TRUE(write_file_atomically(m_settings.include_file, "set $service_port;\n"));
  auto switched = Nginx(m_settings).switch_to(8082);
  ASSERT_FALSE(switched);
  EXPECT_EQ(switched.error().code, ExitCode::Usage);
  EXPECT_EQ(switched.error().message,
            (m_dir / "live.conf").string() +
                ": no `set $service_port PORT;` line found (the file holds \"set "
                "$service_port;\"); write one, e.g. `set $service_port 8081;`, or check the "
                "include format setting");
  EXPECT_EQ(read(m_settings.include_file), "set $service_port;\n");
}

TEST_F(NginxFilesTest, SwitchRefusesAPortOutOfRange) {
  auto switched = Nginx(m_settings).switch_to(70000);
  ASSERT_FALSE(switched);
  EXPECT_EQ(switched.error().code, ExitCode::Usage);
  EXPECT_EQ(switched.error().message, "nginx: cannot switch to port 70000; a port is 1-65535");
  EXPECT_FALSE(fs::exists(m_settings.include_file));
}

TEST_F(NginxFilesTest, MasterPidSaysWhyNginxLooksStopped) {
  auto missing = Nginx(m_settings).master_pid();
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ExitCode::Unavailable);
  EXPECT_EQ(missing.error().message,
            m_settings.pid_file.string() +
                ": cannot read the nginx master's pid (No such file or directory); is nginx "
                "running? (set the pid file if it lives elsewhere)");

  ASSERT_TRUE(write_file_atomically(m_settings.pid_file, "abc\n"));
  EXPECT_EQ(Nginx(m_settings).master_pid().error().message,
            m_settings.pid_file.string() +
                ": expected the nginx master's pid, found \"abc\"; is this nginx's pid file?");

  // A pid that cannot be running: above the kernel's pid_max.
  ASSERT_TRUE(write_file_atomically(m_settings.pid_file, "2147483647\n"));
  EXPECT_EQ(Nginx(m_settings).master_pid().error().message,
            m_settings.pid_file.string() + ": nginx master 2147483647 is not running; start nginx");

  ASSERT_TRUE(write_file_atomically(m_settings.pid_file, std::to_string(::getpid()) + "\n"));
  EXPECT_EQ(*Nginx(m_settings).master_pid(), ::getpid());
  EXPECT_TRUE(Nginx(m_settings).worker_pids().empty());
}

TEST_F(NginxFilesTest, MasterPidComesFromTheConfsPidDirectiveRelativeToThePrefix) {
  m_settings.pid_file.clear();
  m_settings.prefix = m_dir;
  m_settings.conf = "nginx.conf";
  ASSERT_TRUE(write_file_atomically(m_dir / "nginx.conf", "pid run/master.pid;\nevents {}\n"));
  fs::create_directory(m_dir / "run");
  ASSERT_TRUE(write_file_atomically(m_dir / "run/master.pid", std::to_string(::getpid())));
  EXPECT_EQ(*Nginx(m_settings).master_pid(), ::getpid());
}

}  // namespace
}  // namespace switchyard
