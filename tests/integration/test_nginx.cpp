// The two ways switchyard switches nginx, against a real private nginx
// (nginx_harness.hpp) and two loopback backends that answer with their port.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <thread>

#include "runner/host/nginx.hpp"
#include "runner/host/nginx_config.hpp"
#include "runner/util/atomic_file.hpp"
#include "tests/integration/nginx_harness.hpp"

namespace switchyard {
namespace {

using namespace std::chrono_literals;
using nginx_harness::Backend;
using nginx_harness::KeepAliveClient;
using nginx_harness::NginxOptions;
using nginx_harness::PrivateNginx;

std::string served_by(int port) {
  return "port " + std::to_string(port) + "\n";
}

// Two backends and a private nginx routing to the first one.
class NginxSwitchTest : public ::testing::Test {
 protected:
  void start(NginxOptions options) {
    if (auto why = nginx_harness::why_unavailable(options.mode == NginxMode::Seamless)) {
      GTEST_SKIP() << *why;
    }
    m_old = std::make_unique<Backend>(nginx_harness::free_port());
    m_new = std::make_unique<Backend>(nginx_harness::free_port());
    ASSERT_TRUE(m_old->ready() && m_new->ready()) << "the python backends did not start";
    options.slot_ports = {m_old->port(), m_new->port()};
    options.live_port = m_old->port();
    m_nginx = std::make_unique<PrivateNginx>(options);
    ASSERT_EQ(m_nginx->start(), "");
    auto first = nginx_harness::get_once(m_nginx->port(), "/");
    ASSERT_TRUE(first) << m_nginx->error_log();
    ASSERT_EQ(first->body, served_by(m_old->port())) << m_nginx->error_log();
  }

  std::string body_now() {
    auto response = nginx_harness::get_once(m_nginx->port(), "/");
    return response ? response->body : "no response";
  }

  std::unique_ptr<Backend> m_old;
  std::unique_ptr<Backend> m_new;
  std::unique_ptr<PrivateNginx> m_nginx;
};

class ReloadSwitchTest : public NginxSwitchTest,
                         public ::testing::WithParamInterface<IncludeFormat> {};

TEST_P(ReloadSwitchTest, MovesTrafficReloadsAndDrainsTheOldWorkers) {
  start({.mode = NginxMode::Reload, .include_format = GetParam()});
  if (IsSkipped()) return;
  Nginx nginx = m_nginx->nginx();
  pid_t master = m_nginx->master_pid();
  std::vector<pid_t> workers_before = m_nginx->worker_pids();
  ASSERT_EQ(workers_before.size(), 1u);

  auto old_workers = nginx.switch_to(m_new->port());
  ASSERT_TRUE(old_workers) << old_workers.error().message;
  EXPECT_EQ(*old_workers, workers_before);
  EXPECT_EQ(body_now(), served_by(m_new->port()));
  EXPECT_EQ(*nginx.live_port(), m_new->port());
  // The user's comment line is kept; only the port changed.
  EXPECT_EQ(nginx_harness::read_text(m_nginx->settings().include_file),
            format_include(m_nginx->settings(), m_new->port()));

  EXPECT_TRUE(nginx.wait_drained(m_old->port(), *old_workers));
  for (pid_t worker : *old_workers)
    EXPECT_FALSE(nginx_harness::running(worker));
  EXPECT_EQ(m_nginx->master_pid(), master);
  EXPECT_NE(m_nginx->worker_pids(), workers_before);

  // And back again.
  auto second = nginx.switch_to(m_old->port());
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(body_now(), served_by(m_old->port()));
}

INSTANTIATE_TEST_SUITE_P(BothIncludeFormats, ReloadSwitchTest,
                         ::testing::Values(IncludeFormat::SetVariable,
                                           IncludeFormat::UpstreamServer),
                         [](const auto& info) {
                           return info.param == IncludeFormat::SetVariable ? "SetVariable"
                                                                           : "UpstreamServer";
                         });

TEST_F(NginxSwitchTest, ReloadNginxTestFailureRestoresTheIncludeAndKeepsServing) {
  start({.mode = NginxMode::Reload});
  if (IsSkipped()) return;
  // Someone edited the include by hand after nginx loaded it; the switch
  // must not reload a configuration nginx rejects.
  const auto& include = m_nginx->settings().include_file;
  std::string edited = format_include(m_nginx->settings(), m_old->port()) + "sett $oops 1;\n";
  ASSERT_TRUE(write_file_atomically(include, edited));
  pid_t master = m_nginx->master_pid();
  std::vector<pid_t> workers = m_nginx->worker_pids();

  Nginx nginx = m_nginx->nginx();
  auto switched = nginx.switch_to(m_new->port());
  ASSERT_FALSE(switched);
  EXPECT_EQ(switched.error().code, ExitCode::Failure);
  EXPECT_EQ(switched.error().message,
            "nginx -t: [emerg] unknown directive \"sett\" in " + include.string() +
                ":3; the previous include was restored and nothing changed");
  EXPECT_EQ(nginx_harness::read_text(include), edited);
  EXPECT_EQ(body_now(), served_by(m_old->port()));
  EXPECT_EQ(m_nginx->master_pid(), master);
  EXPECT_EQ(m_nginx->worker_pids(), workers);
}

TEST_F(NginxSwitchTest, ReloadThatNginxRejectsIsDetectedAndTheIncludeRestored) {
  start({.mode = NginxMode::Reload, .reload_timeout = 1000ms});
  if (IsSkipped()) return;
  // `nginx -t` does not bind listening sockets, so a port someone else holds
  // passes the test and fails only the reload: nginx keeps its old workers.
  nginx_harness::PortHolder holder;
  ASSERT_GT(holder.port(), 0);
  int busy = holder.port();
  std::string conf = nginx_harness::read_text(m_nginx->settings().conf);
  std::string listen_line = "listen 127.0.0.1:" + std::to_string(m_nginx->port()) + ";";
  conf.replace(conf.find(listen_line), listen_line.size(),
               listen_line + " listen 127.0.0.1:" + std::to_string(busy) + ";");
  m_nginx->write_conf(conf);
  const auto& include = m_nginx->settings().include_file;
  std::string before = nginx_harness::read_text(include);
  std::vector<pid_t> workers = m_nginx->worker_pids();

  Nginx nginx = m_nginx->nginx();
  auto switched = nginx.switch_to(m_new->port());
  ASSERT_FALSE(switched);
  EXPECT_EQ(switched.error().code, ExitCode::Failure);
  EXPECT_EQ(switched.error().message,
            "nginx: master " + std::to_string(m_nginx->master_pid()) +
                " started no new workers within 1s of the reload; nginx rejected it (see its "
                "error log); the previous include was restored and nginx still serves the old "
                "port");
  EXPECT_NE(m_nginx->error_log().find("bind() to 127.0.0.1:" + std::to_string(busy)),
            std::string::npos);
  EXPECT_EQ(nginx_harness::read_text(include), before);
  EXPECT_EQ(m_nginx->worker_pids(), workers);
  EXPECT_EQ(body_now(), served_by(m_old->port()));
}

TEST_F(NginxSwitchTest, ReloadWithoutARunningNginxRestoresTheIncludeAndExits3) {
  start({.mode = NginxMode::Reload});
  if (IsSkipped()) return;
  m_nginx->stop();
  const auto& settings = m_nginx->settings();
  std::string before = nginx_harness::read_text(settings.include_file);

  Nginx nginx = m_nginx->nginx();
  auto switched = nginx.switch_to(m_new->port());
  ASSERT_FALSE(switched);
  EXPECT_EQ(switched.error().code, ExitCode::Unavailable);
  // nginx removes its pid file on a clean exit, and `nginx -t` (which
  // passed) leaves it created but empty.
  EXPECT_EQ(switched.error().message,
            settings.pid_file.string() +
                ": empty, so no nginx master runs from it; start nginx (or set the pid file if "
                "it lives elsewhere); the previous include was restored and nothing changed");
  EXPECT_EQ(nginx_harness::read_text(settings.include_file), before);
}

TEST_F(NginxSwitchTest, ReloadWaitsForAnInFlightRequestOnTheOldWorker) {
  start({.mode = NginxMode::Reload, .drain_timeout = 300ms});
  if (IsSkipped()) return;
  int nginx_port = m_nginx->port();
  auto in_flight = std::async(std::launch::async, [nginx_port] {
    return nginx_harness::get_once(nginx_port, "/sleep/1500");
  });
  std::this_thread::sleep_for(200ms);  // the request reaches the old backend

  Nginx nginx = m_nginx->nginx();
  auto old_workers = nginx.switch_to(m_new->port());
  ASSERT_TRUE(old_workers) << old_workers.error().message;
  EXPECT_EQ(body_now(), served_by(m_new->port()));
  // The old worker is still serving the slow request: not drained yet, and
  // that request is the one in flight to the old slot.
  EXPECT_FALSE(nginx.wait_drained(m_old->port(), *old_workers));
  EXPECT_EQ(nginx.requests_in_flight(m_old->port()), 1);
  EXPECT_EQ(nginx.requests_in_flight(m_new->port()), 0);

  // The slow request completes on the old slot, then the worker exits.
  auto response = in_flight.get();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, served_by(m_old->port()));
  NginxSettings patient = m_nginx->settings();
  patient.drain_timeout = 3s;
  EXPECT_TRUE(Nginx(patient).wait_drained(m_old->port(), *old_workers));
  EXPECT_EQ(nginx.requests_in_flight(m_old->port()), 0);
}

TEST_F(NginxSwitchTest, SeamlessSwitchKeepsTheClientConnectionAndNeverReloads) {
  start({.mode = NginxMode::Seamless});
  if (IsSkipped()) return;
  pid_t master = m_nginx->master_pid();
  std::vector<pid_t> workers = m_nginx->worker_pids();
  KeepAliveClient client(m_nginx->port());
  auto before = client.get("/");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->body, served_by(m_old->port()));

  Nginx nginx = m_nginx->nginx();
  auto switched = nginx.switch_to(m_new->port());
  ASSERT_TRUE(switched) << switched.error().message;
  EXPECT_TRUE(switched->empty());
  EXPECT_EQ(*nginx.live_port(), m_new->port());

  // The same connection (the client never reconnects) now reaches the new slot.
  auto after = client.get("/");
  ASSERT_TRUE(after) << "the keep-alive connection did not survive the switch";
  EXPECT_EQ(after->body, served_by(m_new->port()));
  EXPECT_EQ(m_nginx->master_pid(), master);
  EXPECT_EQ(m_nginx->worker_pids(), workers);

  // Idle pooled connections to the old slot close after the upstream
  // keep-alive timeout (250ms here), so the old slot drains.
  auto drain_start = std::chrono::steady_clock::now();
  EXPECT_TRUE(nginx.wait_drained(m_old->port(), {}));
  EXPECT_LT(std::chrono::steady_clock::now() - drain_start, 2s);
}

TEST_F(NginxSwitchTest, SeamlessDrainWaitsForAnInFlightRequestToTheOldSlot) {
  start({.mode = NginxMode::Seamless, .drain_timeout = 300ms});
  if (IsSkipped()) return;
  int nginx_port = m_nginx->port();
  auto in_flight = std::async(std::launch::async, [nginx_port] {
    return nginx_harness::get_once(nginx_port, "/sleep/1500");
  });
  std::this_thread::sleep_for(200ms);

  Nginx nginx = m_nginx->nginx();
  ASSERT_TRUE(nginx.switch_to(m_new->port()));
  EXPECT_EQ(body_now(), served_by(m_new->port()));
  auto bounded_start = std::chrono::steady_clock::now();
  EXPECT_FALSE(nginx.wait_drained(m_old->port(), {}));
  EXPECT_LT(std::chrono::steady_clock::now() - bounded_start, 1s);
  // The pooled connection of the first request closed after the upstream
  // keep-alive timeout (250ms here): what is left is the slow request.
  EXPECT_EQ(nginx.requests_in_flight(m_old->port()), 1);

  auto response = in_flight.get();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, served_by(m_old->port()));
  NginxSettings patient = m_nginx->settings();
  patient.drain_timeout = 3s;
  EXPECT_TRUE(Nginx(patient).wait_drained(m_old->port(), {}));
  EXPECT_EQ(nginx.requests_in_flight(m_old->port()), 0);
}

TEST_F(NginxSwitchTest, SeamlessRequestRoutedToAStoppedSlotIsServedByTheOtherSlot) {
  start({.mode = NginxMode::Seamless});
  if (IsSkipped()) return;
  // What a request that chose the old slot just before the switch meets when
  // it connects after the old slot was stopped: a refused connection. The
  // backup server in the slot's upstream catches it.
  m_old->stop();
  for (int i = 0; i < 3; ++i) {
    auto response = nginx_harness::get_once(m_nginx->port(), "/");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, served_by(m_new->port()));
  }
}

TEST_F(NginxSwitchTest, SeamlessRefusesAPortWithoutAnUpstreamBlock) {
  start({.mode = NginxMode::Seamless});
  if (IsSkipped()) return;
  const auto& settings = m_nginx->settings();
  int stranger = nginx_harness::free_port();
  Nginx nginx = m_nginx->nginx();
  auto switched = nginx.switch_to(stranger);
  ASSERT_FALSE(switched);
  EXPECT_EQ(switched.error().code, ExitCode::Usage);
  EXPECT_EQ(switched.error().message,
            settings.live_port_file.string() + ": port " + std::to_string(stranger) +
                " is not a slot port (" + std::to_string(m_old->port()) + ", " +
                std::to_string(m_new->port()) + "); nginx has an upstream block only for those");
  EXPECT_EQ(*nginx.live_port(), m_old->port());
  EXPECT_EQ(body_now(), served_by(m_old->port()));
}

TEST_F(NginxSwitchTest, SeamlessRouterAnswers502AndLogsWhyWhenTheLivePortFileIsBroken) {
  start({.mode = NginxMode::Seamless});
  if (IsSkipped()) return;
  const auto& file = m_nginx->settings().live_port_file;
  ASSERT_TRUE(write_file_atomically(file, "eighty\n"));
  auto response = nginx_harness::get_once(m_nginx->port(), "/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 502);
  EXPECT_NE(m_nginx->error_log().find("switchyard router: " + file.string() +
                                      ": expected the live port, found \"eighty\""),
            std::string::npos)
      << m_nginx->error_log();

  std::filesystem::remove(file);
  response = nginx_harness::get_once(m_nginx->port(), "/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 502);
  EXPECT_NE(m_nginx->error_log().find("switchyard router: " + file.string() +
                                      ": cannot read the live port"),
            std::string::npos)
      << m_nginx->error_log();
}

using nginx_harness::Load;

// The whole host sequence, a few times, under load: switch, wait until the old
// slot is drained, kill it outright (SIGKILL: anything still in flight would
// fail), start it again for the next cutover.
class CutoverUnderLoadTest : public NginxSwitchTest,
                             public ::testing::WithParamInterface<NginxMode> {
 protected:
  void cut_over_four_times(Load& load) {
    for (int cutover = 0; cutover < 4; ++cutover) {
      std::this_thread::sleep_for(150ms);
      Nginx nginx = m_nginx->nginx();
      auto old_workers = nginx.switch_to(m_new->port());
      ASSERT_TRUE(old_workers) << old_workers.error().message;
      auto drain_start = std::chrono::steady_clock::now();
      ASSERT_TRUE(nginx.wait_drained(m_old->port(), *old_workers)) << "cutover " << cutover;
      m_longest_drain =
          std::max(m_longest_drain, std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - drain_start));
      int old_port = m_old->port();
      m_old->stop();
      m_old = std::make_unique<Backend>(old_port);
      ASSERT_TRUE(m_old->ready());
      std::swap(m_old, m_new);
    }
    std::this_thread::sleep_for(150ms);
    load.stop();
  }

  std::chrono::milliseconds m_longest_drain{0};
};

TEST_P(CutoverUnderLoadTest, NoRequestFails) {
  start({.mode = GetParam(), .worker_processes = 2});
  if (IsSkipped()) return;
  Load load(m_nginx->port(), 8);
  cut_over_four_times(load);
  std::printf(
      "%s: %ld requests, %ld non-2xx, %ld socket errors, %ld connections closed with "
      "`Connection: close` over 4 cutovers; longest drain %lld ms\n",
      GetParam() == NginxMode::Seamless ? "seamless" : "reload", load.requests(), load.non_2xx(),
      load.socket_errors(), load.polite_closes(), static_cast<long long>(m_longest_drain.count()));
  EXPECT_GT(load.requests(), 100);
  EXPECT_EQ(load.non_2xx(), 0);
  // A reload closes idle client keep-alive connections (a client sending at
  // that instant sees its connection close); seamless mode closes none.
  if (GetParam() == NginxMode::Seamless) EXPECT_EQ(load.socket_errors(), 0);
}

INSTANTIATE_TEST_SUITE_P(BothModes, CutoverUnderLoadTest,
                         ::testing::Values(NginxMode::Reload, NginxMode::Seamless),
                         [](const auto& info) {
                           return info.param == NginxMode::Reload ? "Reload" : "Seamless";
                         });

TEST(NginxMinimalConfWithNginx, PassesNginxTestInEveryMode) {
  if (auto why = nginx_harness::why_unavailable(true)) GTEST_SKIP() << *why;
  for (NginxMode mode : {NginxMode::Reload, NginxMode::Seamless}) {
    for (IncludeFormat format : {IncludeFormat::SetVariable, IncludeFormat::UpstreamServer}) {
      PrivateNginx nginx(
          {.mode = mode, .include_format = format, .slot_ports = {8081, 8082}, .live_port = 8081});
      auto tested = nginx.nginx().test_config();
      EXPECT_TRUE(tested) << tested.error().message;
    }
  }
}

}  // namespace
}  // namespace switchyard
