#include "runner/host/switch.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <thread>

#include "runner/core/ci.hpp"
#include "runner/core/log.hpp"
#include "runner/core/manifest.hpp"
#include "runner/host/warm_expiry.hpp"
#include "runner/net/health.hpp"
#include "runner/net/http.hpp"
#include "runner/util/interrupt.hpp"
#include "runner/util/sha256.hpp"
#include "runner/util/strings.hpp"

namespace switchyard {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::int64_t elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

bool warm_expired(const SlotRecord& slot) {
  auto until = parse_utc(slot.warm_until);
  if (!until) return true;
  return std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) >= *until;
}

// True when something accepts connections on 127.0.0.1:`port`.
bool port_in_use(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return connected;
}

// "the old version 1.0.0 keeps serving", or what is true on a first deploy.
std::string who_keeps_serving(const std::optional<SlotRecord>& old_slot) {
  if (!old_slot) return "nothing was serving before, and nothing was switched";
  return "the old version " + old_slot->version + " keeps serving";
}

// What a history line records while an attempt runs.
class Attempt {
 public:
  Attempt(Host& host, std::string action, const ReleaseInfo& release) : m_host(host) {
    m_record.action = std::move(action);
    m_record.who = deploy_actor(current_environment());
    m_record.app = host.settings().app;
    m_record.version = release.version;
    m_record.sha256 = release.sha256;
  }
  HistoryRecord& record() { return m_record; }

  void from(const std::optional<SlotRecord>& old_slot, int old_port) {
    if (old_slot) m_record.from_version = old_slot->version;
    m_record.from_port = old_port;
    if (old_port > 0) m_record.from_slot = m_host.settings().slot_name(old_port);
  }
  void to(int port) {
    m_record.to_port = port;
    m_record.to_slot = m_host.settings().slot_name(port);
  }

  // Records the failure in history and hands the error back.
  Error fail(Error error) {
    m_record.outcome = error.code == ExitCode::Interrupted ? "interrupted" : "failed";
    m_record.reason = error.message;
    finish();
    return error;
  }
  void succeed() {
    m_record.outcome = "success";
    finish();
  }

 private:
  void finish() {
    m_record.time = utc_now();
    if (auto appended = append_history(m_host.paths(), m_record); !appended) {
      log::warn("{}", appended.error().message);
    }
  }

  Host& m_host;
  HistoryRecord m_record;
};

// GETs `url` once; the version it reports (X-App-Version, else the body of
// /version beside it), or nullopt with `why` set.
std::optional<std::string> version_through_nginx(const std::string& url, std::string& why) {
  HttpRequest request;
  request.url = url;
  request.timeout = std::chrono::seconds(2);
  request.connect_timeout = std::chrono::seconds(1);
  auto outcome = http_send(request);
  if (!outcome.response) {
    why = outcome.failure_text;
    return std::nullopt;
  }
  auto header = outcome.response->header("X-App-Version");
  if (!header.empty()) return header;
  // No header: ask /version at the same origin.
  static const std::regex k_origin(R"(^(https?://[^/]+).*)");
  std::smatch match;
  if (std::regex_match(url, match, k_origin)) {
    request.url = match[1].str() + "/version";
    auto version = http_send(request);
    if (version.response && version.response->status / 100 == 2) {
      auto body = version.response->body;
      boost::json::error_code error;
      auto value = boost::json::parse(body, error);
      if (!error && value.is_object() && value.as_object().contains("version") &&
          value.as_object().at("version").is_string()) {
        return std::string(value.as_object().at("version").as_string());
      }
      while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back())))
        body.pop_back();
      if (!body.empty() && body.size() < 128) return body;
    }
  }
  why = "answered HTTP " + std::to_string(outcome.response->status) +
        " without an X-App-Version header or a /version";
  return std::string();
}

// The same path as `url` (nginx's), asked of the slot on `port` directly.
std::string slot_url_like(const std::string& url, int port) {
  static const std::regex k_path(R"(^https?://[^/]+(/.*)?$)");
  std::smatch match;
  std::string path = std::regex_match(url, match, k_path) ? match[1].str() : "/";
  if (path.empty()) path = "/";
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

// Confirms through nginx that the new slot on `port` answers: nginx must
// report the version the slot itself reports when asked directly (so a
// release label never has to match what the service says), else the
// release's app_version or label. Retried until the confirm timeout, since a
// reload takes effect as the new workers start.
Result<void> confirm_through_nginx(Host& host, const ReleaseInfo& release, int port) {
  const auto& url = host.settings().nginx_url;
  std::string why;
  auto direct = version_through_nginx(slot_url_like(url, port), why);
  std::string expected = direct && !direct->empty()    ? *direct
                         : release.app_version.empty() ? release.version
                                                       : release.app_version;
  auto matches = [&](const std::string& reported) {
    if (direct && !direct->empty()) return reported == *direct;
    return reported_version_matches(reported, release);
  };
  auto deadline = Clock::now() + host.settings().confirm_timeout;
  std::string last = "no answer";
  while (true) {
    auto reported = version_through_nginx(url, why);
    if (reported && reported->empty()) {
      // The service says no version at all: an answer through nginx is all
      // that can be confirmed.
      log::warn("{}: {}; cannot tell which version answered", url, why);
      return {};
    }
    if (reported && matches(*reported)) return {};
    last = reported ? "answered version " + *reported : why;
    if (Clock::now() >= deadline || interrupted()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return failure(url + ": " + last + ", not " + expected + " (port " + std::to_string(port) +
                 "), after the switch");
}

// Stops `slot` and records it as stopped.
// After the new slot failed its confirmation through nginx: points nginx
// back at the old slot and records that slot live again. Returns what
// happened to nginx, for the error message ("" when nothing was live).
std::string switch_back(Host& host, int old_port, std::optional<SlotRecord>& old_slot) {
  std::string back;
  if (old_port > 0) {
    auto switched_back = host.nginx().switch_to(old_port);
    back = switched_back ? "switched back to port " + std::to_string(old_port)
                         : "switching back failed too (" + switched_back.error().message + ")";
  }
  if (old_slot) {
    old_slot->status = SlotStatus::Live;
    old_slot->warm_until.clear();
    host.state().put(*old_slot);
  }
  return back;
}

void stop_slot(Host& host, SlotRecord& slot) {
  log::info("port {}: stopping {} (pid {})", slot.port, slot.version, slot.pid);
  if (!host.slots().stop(slot)) {
    log::warn("port {}: {} did not stop within target.stop_grace; it was killed", slot.port,
              slot.version);
  }
  slot.status = SlotStatus::Stopped;
  slot.since = utc_now();
  slot.warm_until.clear();
}

// Waits for nginx to drain `old_port` (Nginx::wait_drained). When
// target.drain_timeout runs out first, logs how many requests nginx still
// has in flight to the old slot, and returns that count when `stopping` the
// slot next cuts them (0 when it keeps running and they may finish).
int drain_old_slot(Host& host, int old_port, const std::vector<pid_t>& old_workers, bool stopping) {
  if (host.nginx().wait_drained(old_port, old_workers)) return 0;
  const auto& settings = host.settings();
  std::string timeout = format_duration(settings.drain_timeout);
  int in_flight = host.nginx().requests_in_flight(old_port);
  if (in_flight == 0) {
    // Reload mode: nginx's old workers still finish other work (a slow
    // client), none of it with the old slot.
    log::info("port {}: target.drain_timeout ({}) ran out, but no request to it is in flight",
              old_port, timeout);
    return 0;
  }
  std::string requests = in_flight == 1 ? "1 request" : std::to_string(in_flight) + " requests";
  if (!stopping) {
    log::warn(
        "port {}: {} still in flight after target.drain_timeout ({}); it keeps running, so "
        "they may finish",
        old_port, requests, timeout);
    return 0;
  }
  log::warn(
      "port {}: {} still in flight after target.drain_timeout ({}); stopping it anyway, "
      "which cuts {} unless the service finishes {} within target.stop_grace ({})",
      old_port, requests, timeout, in_flight == 1 ? "it" : "them", in_flight == 1 ? "it" : "them",
      format_duration(settings.slots.stop_grace));
  return in_flight;
}

// Writes state.json after the command already failed with `error`. A write
// that fails too is added to the message (it names state.json and what to
// do), unless the message is already about it, since state.json then no
// longer says what runs.
Error save_after_failure(Host& host, Error error) {
  auto saved = host.save();
  if (!saved && error.message.find(saved.error().message) == std::string::npos) {
    error.message += "; " + saved.error().message;
  }
  return error;
}

// Records a switch to `slot` that went through, for a deploy and a rollback
// alike: the new slot comes back after a reboot, the old slot's version
// becomes the previous release, and state and history say so. The outcome
// (without retention, which only a start applies).
Result<SwitchOutcome> record_switch(Host& host, Attempt& attempt, const SlotRecord& slot,
                                    const std::optional<SlotRecord>& old_slot, int old_port,
                                    const PhaseDurations& durations_ms) {
  if (auto enabled = host.slots().set_boot_enabled(slot, true); !enabled) {
    log::warn("{}", enabled.error().message);
  }
  if (old_slot) host.state().previous_version = old_slot->version;
  attempt.record().durations_ms = durations_ms;
  if (auto saved = host.save(); !saved) return attempt.fail(saved.error());
  test_pause("recording");
  attempt.succeed();

  SwitchOutcome outcome;
  outcome.version = slot.version;
  outcome.port = slot.port;
  outcome.slot = slot.slot;
  outcome.previous_version = old_slot ? old_slot->version : "";
  outcome.previous_port = old_port;
  outcome.durations_ms = durations_ms;
  return outcome;
}

std::string sanitize_check(const std::string& version) {
  static const std::regex k_allowed("^[A-Za-z0-9._+-]+$");
  if (version.empty() || version == "." || version == ".." || !std::regex_match(version, k_allowed))
    return "";
  return version;
}

// The version a deploy is labelled with before its manifest is fetched (for
// the lock): --version, the manifest beside a local artifact, the file name.
std::string early_version(const SwitchRequest& request) {
  if (!request.version.empty()) return request.version;
  std::string path = request.artifact;
  if (path.rfind("file://", 0) == 0) path = path.substr(7);
  if (path.find("://") == std::string::npos) {
    auto manifest = read_manifest(manifest_path_for(path));
    if (manifest && !manifest->version.empty()) return manifest->version;
  }
  auto name = fs::path(request.artifact).filename();
  return name.stem().string();
}

// Fetches the artifact into releases/<version>/ and verifies its sha256
// before anything is started.
Result<ReleaseInfo> fetch_release(Host& host, const SwitchRequest& request) {
  const auto& paths = host.paths();
  std::error_code error;
  fs::create_directories(paths.releases_dir(), error);
  // Fetched into a ".partial-" directory first: a deploy killed while
  // fetching leaves only that, which the next deploy removes.
  auto partial = paths.releases_dir() /
                 (".partial-" + std::to_string(::getpid()) + "-" + new_slot_token().substr(0, 8));
  fs::create_directories(partial, error);
  auto cleanup = [&]() { fs::remove_all(partial, error); };

  std::string expected = to_lower(request.sha256);
  auto fetched = fetch_artifact(request.artifact, partial, expected, request.store);
  if (!fetched) {
    cleanup();
    return fetched.error();
  }
  // Downloaded into the partial directory, neither verified nor published.
  test_pause("fetching");
  if (expected.empty()) {
    if (fetched->manifest && !fetched->manifest->sha256.empty()) {
      if (fetched->manifest->sha256 != fetched->sha256) {
        cleanup();
        return failure(request.artifact + ": sha256 is " + fetched->sha256 +
                       " but its manifest says " + fetched->manifest->sha256 +
                       "; the artifact is damaged or not the build the manifest describes; "
                       "nothing was started");
      }
    } else if (!request.no_verify) {
      cleanup();
      return usage_error(request.artifact +
                         ": no sha256 to verify it against; pass --sha256, put its manifest (" +
                         manifest_path_for(fs::path(request.artifact).filename()).string() +
                         ") beside it, or pass --no-verify");
    }
  }

  ReleaseInfo release;
  release.version = request.version;
  if (release.version.empty() && fetched->manifest) release.version = fetched->manifest->version;
  if (release.version.empty()) {
    // Only the file name is left, and builds often share it (app.jar): the
    // first 12 hex digits of the sha256 keep each build's release apart.
    release.version = fetched->path.stem().string() + "-" + fetched->sha256.substr(0, 12);
  }
  if (sanitize_check(release.version).empty()) {
    cleanup();
    return usage_error("version \"" + release.version +
                       "\": not usable as a release name; use letters, digits and . _ + -");
  }
  release.sha256 = fetched->sha256;
  release.artifact = fetched->path.filename().string();
  release.app_version = fetched->manifest ? fetched->manifest->app_version : "";
  release.fetched_at = utc_now();
  release.source = mask_secrets(request.artifact);

  auto target = paths.release_dir(release.version);
  if (fs::exists(target, error)) {
    auto kept = read_release_info(paths, release.version);
    cleanup();
    if (kept && kept->sha256 == release.sha256) {
      log::info("{}: already here, same sha256", target.string());
      return *kept;
    }
    return usage_error(target.string() + ": already holds a different build of " + release.version +
                       " (sha256 " + (kept ? kept->sha256 : "unknown") +
                       "); give this build its own version");
  }
  // release.json marks the directory complete; the rename publishes it.
  auto written = write_release_info(partial, release);
  if (!written) {
    cleanup();
    return written.error();
  }
  fs::rename(partial, target, error);
  if (error) {
    cleanup();
    return unavailable(target.string() + ": cannot create (" + error.message() + ")");
  }
  return release;
}

}  // namespace

HealthReport gate_on_health(Host& host, const SlotRecord& slot) {
  const auto& health = host.settings().health;
  HealthCheck check;
  check.urls = {"http://127.0.0.1:" + std::to_string(slot.port) + health.path};
  check.expect.status = health.expect_status;
  check.expect.json = health.expect_json;
  check.timeout = health.timeout;
  check.interval = health.interval;
  check.request_timeout = health.request_timeout;
  check.successes = health.successes;
  bool paused = false;
  check.give_up = [&]() {
    if (!paused) {
      paused = true;
      test_pause("health");
    }
    return interrupted() || !host.slots().running(slot);
  };
  return wait_healthy(check);
}

std::string last_health_answer(const HealthReport& report) {
  if (report.urls.empty()) return "";
  const auto& url = report.urls.front();
  std::string text = url.last_reason;
  if (url.last_status != 0) {
    text += " (HTTP " + std::to_string(url.last_status);
    if (!url.last_body.empty()) text += ": " + url.last_body.substr(0, 512);
    text += ")";
  }
  return text;
}

#ifdef SWITCHYARD_TEST_SEAMS
bool test_seams_compiled() {
  return true;
}

void test_pause(std::string_view phase) {
  const char* at = std::getenv("SWITCHYARD_TEST_PAUSE_AT");
  if (at == nullptr || phase != at) return;
  log::info("switchyard: test pause at {} (pid {})", phase, ::getpid());
  for (int i = 0; i < 1200 && !interrupted(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
}
#else
// A release build: the environment variable means nothing.
bool test_seams_compiled() {
  return false;
}
void test_pause(std::string_view) {}
#endif

bool reported_version_matches(std::string_view reported, const ReleaseInfo& release) {
  if (!release.app_version.empty()) return reported == release.app_version;
  if (reported == release.version) return true;
  // A release label "2.0.0-3f2a9c1" built from a service reporting "2.0.0".
  return release.version.size() > reported.size() && !reported.empty() &&
         release.version.compare(0, reported.size(), reported) == 0 &&
         release.version[reported.size()] == '-';
}

Host::Host(HostSettings settings)
    : m_settings(std::move(settings)),
      m_nginx(m_settings.nginx),
      m_slots(make_slot_runner(m_settings.slots, m_settings.paths.state_dir)) {
  m_state.app = m_settings.app;
}

Result<void> Host::lock(std::string action, std::string version) {
  LockHolder self;
  self.pid = ::getpid();
  self.action = std::move(action);
  self.version = std::move(version);
  self.since = utc_now();
  self.who = deploy_actor(current_environment());
  auto lock_file = paths().lock_file();
  auto taken =
      HostLock::acquire(lock_file, self, m_settings.lock_timeout, [&](const LockHolder& holder) {
        log::info("{}: held by {}; waiting up to {}", lock_file.string(), holder.describe(),
                  format_duration(m_settings.lock_timeout));
      });
  if (!taken) return taken.error();
  m_lock = std::move(*taken);
  return {};
}

Result<void> Host::load() {
  auto state = read_state(paths());
  if (!state) return state.error();
  m_state = std::move(*state);
  m_state.app = m_settings.app;
  return {};
}

Result<void> Host::save() {
  return write_state(paths(), m_state);
}

Result<std::optional<int>> Host::live_port() {
  auto port = m_nginx.live_port();
  if (!port) {
    // Before the first deploy the live-port file may not exist yet.
    if (m_state.live() == nullptr) return std::optional<int>();
    return port.error();
  }
  if (*port != m_settings.ports[0] && *port != m_settings.ports[1]) {
    return usage_error(
        "nginx points at port " + std::to_string(*port) + ", which is not one of target.ports (" +
        std::to_string(m_settings.ports[0]) + ", " + std::to_string(m_settings.ports[1]) +
        "); set target.ports to the ports nginx switches between");
  }
  return std::optional<int>(*port);
}

Result<int> Host::idle_port() {
  auto live = live_port();
  if (!live) return live.error();
  if (!*live) return m_settings.ports[0];
  return **live == m_settings.ports[0] ? m_settings.ports[1] : m_settings.ports[0];
}

Result<void> Host::clean_leftovers() {
  // Half-fetched releases and half-deleted ones.
  for (const auto& leftover : leftover_release_dirs(paths())) {
    log::info("{}: removing what a killed deploy left", leftover.string());
    std::error_code error;
    fs::remove_all(leftover, error);
  }

  auto live = live_port();
  if (!live) return live.error();
  bool changed = false;
  bool reassert = false;
  std::vector<SlotRecord*> to_stop;
  std::string was_live;
  for (auto& slot : m_state.slots) {
    if (slot.status == SlotStatus::Live && (!*live || **live != slot.port)) was_live = slot.version;
  }
  for (auto& slot : m_state.slots) {
    bool nginx_points_here = *live && **live == slot.port;
    if (nginx_points_here) {
      if (slot.status == SlotStatus::Starting || slot.status == SlotStatus::Warm) {
        // nginx only points at a slot after its health gate passed: a
        // killed deploy switched here but did not get to record it.
        log::warn("port {}: nginx points at {}, which a killed deploy switched to; it is live now",
                  slot.port, slot.version);
        slot.status = SlotStatus::Live;
        slot.since = utc_now();
        if (!was_live.empty()) m_state.previous_version = was_live;
        m_slots->set_restart_on_exit(slot, true);
        changed = reassert = true;
      }
      if (!m_slots->running(slot) && slot.status == SlotStatus::Live) {
        log::warn("port {}: nginx points at {}, but it is not running; run `switchyard restore`",
                  slot.port, slot.version);
      }
      continue;
    }
    switch (slot.status) {
      case SlotStatus::Starting:
        log::info("port {}: {} was left starting by a deploy that was killed", slot.port,
                  slot.version);
        to_stop.push_back(&slot);
        break;
      case SlotStatus::Live:
        // nginx points elsewhere: a killed deploy switched away from it.
        reassert = true;
        to_stop.push_back(&slot);
        break;
      case SlotStatus::Warm:
        if (warm_expired(slot) || !m_slots->running(slot)) to_stop.push_back(&slot);
        break;
      case SlotStatus::Stopped:
        break;
    }
  }
  if (reassert && *live) {
    // In reload mode a deploy killed between writing the include and the
    // reload leaves nginx serving the old port: reload once more, and let
    // the old workers finish before the old slot is stopped.
    const auto* slot = m_state.find_port(**live);
    if (slot != nullptr && m_slots->running(*slot)) {
      auto workers = m_nginx.switch_to(**live);
      if (!workers) {
        log::warn("{}", workers.error().message);
      } else if (!to_stop.empty()) {
        m_nginx.wait_drained(to_stop.front()->port, *workers);
      }
    }
  }
  for (auto* slot : to_stop) {
    stop_slot(*this, *slot);
    if (auto disabled = m_slots->set_boot_enabled(*slot, false); !disabled) {
      log::warn("{}", disabled.error().message);
    }
    changed = true;
  }
  if (changed) return save();
  return {};
}

Result<SwitchOutcome> start_and_switch(Host& host, const ReleaseInfo& release,
                                       const std::string& action, PhaseDurations durations_ms) {
  const auto& settings = host.settings();
  Attempt attempt(host, action, release);
  attempt.record().durations_ms = durations_ms;
  auto fail = [&](Error error) -> Error {
    attempt.record().durations_ms = durations_ms;
    return attempt.fail(std::move(error));
  };

  auto live = host.live_port();
  if (!live) return fail(live.error());
  int old_port = live->value_or(0);
  auto idle = host.idle_port();
  if (!idle) return fail(idle.error());
  int port = *idle;
  const SlotRecord* old_record = old_port > 0 ? host.state().find_port(old_port) : nullptr;
  if (old_record != nullptr && old_record->status != SlotStatus::Live) old_record = nullptr;
  std::optional<SlotRecord> old_slot;
  if (old_record != nullptr) old_slot = *old_record;
  attempt.from(old_slot, old_port);
  attempt.to(port);
  std::string subject = settings.app + " " + release.version + " on port " + std::to_string(port);

  // Make room on the idle slot: a warm previous release goes now.
  if (auto* occupant = host.state().find_port(port);
      occupant != nullptr && occupant->status != SlotStatus::Stopped) {
    stop_slot(host, *occupant);
    if (auto saved = host.save(); !saved) return fail(saved.error());
  }
  if (port_in_use(port)) {
    return fail(failure("port " + std::to_string(port) +
                        ": in use by a process switchyard did not start; stop it, or change "
                        "target.ports; " +
                        who_keeps_serving(old_slot)));
  }

  // Record the slot as starting before spawning it, so that a deploy killed
  // right after the spawn leaves a trace (and the slot's token) behind.
  SlotLaunch launch = slot_launch(host.paths(), release, port, settings.slot_name(port));
  SlotRecord slot = slot_record(launch);
  slot.sha256 = release.sha256;
  slot.status = SlotStatus::Starting;
  slot.since = utc_now();
  host.state().put(slot);
  if (auto saved = host.save(); !saved) return fail(saved.error());

  // Start the idle slot.
  log::info(
      "{}: starting ({})", subject,
      settings.slots.run_as == RunAs::Systemd ? "systemd" : "log " + launch.log_file.string());
  auto boot_start = Clock::now();
  auto started = host.slots().start(launch);
  if (!started) {
    host.state().put([&] {
      auto stopped = slot;
      stopped.status = SlotStatus::Stopped;
      return stopped;
    }());
    return fail(save_after_failure(
        host, Error{started.error().code, subject + ": cannot start (" + started.error().message +
                                              "); " + who_keeps_serving(old_slot)}));
  }

  // Stops the new slot and gives the error back: the old one keeps serving.
  auto abandon_new_slot = [&](Error error) -> Error {
    stop_slot(host, slot);
    host.state().put(slot);
    return fail(save_after_failure(host, std::move(error)));
  };

  test_pause("spawned");
  slot.pid = started->pid;
  slot.start_ticks = started->start_ticks;
  if (!started->log_file.empty()) slot.log_file = started->log_file;
  host.state().put(slot);
  if (auto saved = host.save(); !saved) {
    return abandon_new_slot(
        Error{saved.error().code,
              saved.error().message + "; stopped " + subject + "; " + who_keeps_serving(old_slot)});
  }
  durations_ms.emplace_back("boot", elapsed_ms(boot_start));
  test_pause("started");

  // Gate on health, aimed at the new slot directly.
  auto health_start = Clock::now();
  auto report = gate_on_health(host, slot);
  durations_ms.emplace_back("healthy", elapsed_ms(health_start));
  if (!report.healthy || interrupted()) {
    attempt.record().last_health = last_health_answer(report);
    attempt.record().log_tail = file_tail(slot.log_file, 20);
    std::string keeps = who_keeps_serving(old_slot);
    if (interrupted()) {
      return abandon_new_slot(
          Error{ExitCode::Interrupted,
                subject + ": interrupted before the switch; stopped it; " + keeps});
    }
    const auto& url = report.urls.empty() ? UrlReport{} : report.urls.front();
    std::string why = url.last_reason.empty() ? "no answer" : url.last_reason;
    std::string what;
    if (!host.slots().running(slot)) {
      what = "exited before it became healthy (last health answer: " + why + ")";
    } else {
      what = "not healthy after " + format_duration(settings.health.timeout) + " (" + why + ")";
    }
    return abandon_new_slot(
        failure(subject + ": " + what + "; " + keeps + "; see " + slot.log_file.string()));
  }
  log::info("{}: healthy after {} ms", subject, durations_ms.back().second);

  // Switch traffic. nginx points at the new slot only now that it passed.
  auto switch_start = Clock::now();
  auto old_workers = host.nginx().switch_to(port);
  if (!old_workers) {
    return abandon_new_slot(Error{old_workers.error().code, old_workers.error().message + "; " +
                                                                who_keeps_serving(old_slot)});
  }
  slot.status = SlotStatus::Live;
  slot.since = utc_now();
  host.state().put(slot);
  host.slots().set_restart_on_exit(slot, true);
  if (old_slot) {
    // Draining: recorded as warm until now, so a deploy killed during the
    // drain leaves it for the next one to stop.
    old_slot->status = SlotStatus::Warm;
    old_slot->warm_until = utc_now();
    host.state().put(*old_slot);
  }
  // A release state.json does not record would be unknown to the next
  // deploy and to rollback: nginx goes back and the new slot stops.
  if (auto saved = host.save(); !saved) {
    std::string back = switch_back(host, old_port, old_slot);
    return abandon_new_slot(
        failure(saved.error().message + "; " + subject + " is not recorded, so it was stopped" +
                (back.empty() ? "" : "; " + back) + "; " + who_keeps_serving(old_slot)));
  }
  test_pause("switched");

  // Confirm through nginx that the new version answers; else switch back.
  auto confirmed = confirm_through_nginx(host, release, port);
  if (confirmed && interrupted()) {
    confirmed = Error{ExitCode::Interrupted, subject + ": interrupted after the switch"};
  }
  if (!confirmed) {
    std::string back = switch_back(host, old_port, old_slot);
    Error error = confirmed.error();
    error.message += "; " + (back.empty() ? std::string("stopped the new slot") : back) + "; " +
                     who_keeps_serving(old_slot);
    return abandon_new_slot(error);
  }
  durations_ms.emplace_back("switched", elapsed_ms(switch_start));
  log::info("{}: live; nginx confirms it answers", subject);

  // Drain the old slot, then stop it (or keep it warm for an instant rollback).
  auto drain_start = Clock::now();
  bool keep_warm = settings.keep_warm.count() > 0;
  int cut_requests = old_port > 0 ? drain_old_slot(host, old_port, *old_workers,
                                                   old_slot.has_value() && !keep_warm)
                                  : 0;
  if (old_slot) {
    if (keep_warm) {
      old_slot->warm_until = utc_after(settings.keep_warm);
      log::info("port {}: {} stays warm until {}", old_port, old_slot->version,
                old_slot->warm_until);
      if (settings.slots.run_as == RunAs::Process) {
        schedule_warm_expiry(host.paths(), *old_slot, settings.keep_warm,
                             settings.slots.stop_grace);
      }
    } else {
      stop_slot(host, *old_slot);
    }
    host.state().put(*old_slot);
    if (auto disabled = host.slots().set_boot_enabled(*old_slot, false); !disabled) {
      log::warn("{}", disabled.error().message);
    }
  } else if (old_port > 0 && port_in_use(old_port)) {
    log::info(
        "port {}: the process there was not started by switchyard; stop it yourself now "
        "that traffic has moved",
        old_port);
  }
  durations_ms.emplace_back("drained", elapsed_ms(drain_start));
  test_pause("drained");

  // Record the release.
  auto outcome = record_switch(host, attempt, slot, old_slot, old_port, durations_ms);
  if (!outcome) return outcome;
  outcome->cut_requests = cut_requests;

  // Keep N releases, never the live one, the one before it, or a warm one.
  std::vector<std::string> protect = {release.version, host.state().previous_version};
  for (const auto& record : host.state().slots) {
    if (record.status != SlotStatus::Stopped) protect.push_back(record.version);
  }
  outcome->deleted_releases = apply_retention(host.paths(), settings.keep_releases, protect);
  for (const auto& version : outcome->deleted_releases)
    log::info("releases/{}: deleted (target.keep_releases: {})", version, settings.keep_releases);
  return outcome;
}

Result<SwitchOutcome> switch_to_warm(Host& host, int port, const std::string& action) {
  auto* warm_record = host.state().find_port(port);
  if (warm_record == nullptr) return failure("port " + std::to_string(port) + ": nothing warm");
  SlotRecord warm = *warm_record;
  ReleaseInfo release;
  if (auto kept = read_release_info(host.paths(), warm.version)) release = *kept;
  release.version = warm.version;
  release.sha256 = warm.sha256;
  Attempt attempt(host, action, release);
  auto live = host.live_port();
  if (!live) return attempt.fail(live.error());
  int old_port = live->value_or(0);
  std::optional<SlotRecord> old_slot;
  if (const auto* old_record = old_port > 0 ? host.state().find_port(old_port) : nullptr)
    old_slot = *old_record;
  attempt.from(old_slot, old_port);
  attempt.to(port);
  PhaseDurations durations_ms;
  std::string subject =
      host.settings().app + " " + warm.version + " on port " + std::to_string(port);

  // One probe: a warm slot must still be healthy before traffic goes back.
  auto probe_start = Clock::now();
  HealthCheck check;
  check.urls = {"http://127.0.0.1:" + std::to_string(port) + host.settings().health.path};
  check.expect.status = host.settings().health.expect_status;
  check.timeout = std::chrono::seconds(2);
  check.request_timeout = host.settings().health.request_timeout;
  auto report = wait_healthy(check);
  durations_ms.emplace_back("healthy", elapsed_ms(probe_start));
  if (!report.healthy) {
    attempt.record().last_health = last_health_answer(report);
    return attempt.fail(failure(subject + ": the warm slot is not healthy (" +
                                last_health_answer(report) + "); " + who_keeps_serving(old_slot)));
  }

  auto switch_start = Clock::now();
  auto old_workers = host.nginx().switch_to(port);
  if (!old_workers) {
    return attempt.fail(Error{old_workers.error().code,
                              old_workers.error().message + "; " + who_keeps_serving(old_slot)});
  }
  std::string warm_until = warm.warm_until;
  warm.status = SlotStatus::Live;
  warm.warm_until.clear();
  warm.since = utc_now();
  host.state().put(warm);
  if (old_slot) {
    old_slot->status = SlotStatus::Warm;
    old_slot->warm_until = utc_now();
    host.state().put(*old_slot);
  }
  // Goes back to the slot that was live; the warm one stays warm, until it
  // was to expire anyway.
  auto go_back = [&](std::string message) -> Error {
    std::string back = switch_back(host, old_port, old_slot);
    warm.status = SlotStatus::Warm;
    warm.warm_until = warm_until;
    host.state().put(warm);
    if (!back.empty()) message += "; " + back;
    return attempt.fail(
        save_after_failure(host, failure(message + "; " + who_keeps_serving(old_slot))));
  };
  if (auto saved = host.save(); !saved) {
    return go_back(saved.error().message + "; " + subject + " is not recorded, so it stays warm");
  }
  if (auto confirmed = confirm_through_nginx(host, release, port); !confirmed) {
    return go_back(confirmed.error().message);
  }
  durations_ms.emplace_back("switched", elapsed_ms(switch_start));

  auto drain_start = Clock::now();
  int cut_requests = 0;
  if (old_slot) {
    cut_requests = drain_old_slot(host, old_port, *old_workers, true);
    stop_slot(host, *old_slot);
    host.state().put(*old_slot);
    (void)host.slots().set_boot_enabled(*old_slot, false);
  }
  durations_ms.emplace_back("drained", elapsed_ms(drain_start));
  auto outcome = record_switch(host, attempt, warm, old_slot, old_port, durations_ms);
  if (outcome) {
    outcome->instant = true;
    outcome->cut_requests = cut_requests;
  }
  return outcome;
}

Result<SwitchOutcome> run_switch_traffic(const HostSettings& settings,
                                         const SwitchRequest& request) {
  Host host(settings);

  // Take the lock.
  if (auto locked = host.lock("deploying", early_version(request)); !locked) {
    return locked.error();
  }
  test_pause("locked");

  // Clean what a killed deploy left.
  if (auto loaded = host.load(); !loaded) return loaded.error();
  if (auto cleaned = host.clean_leftovers(); !cleaned) return cleaned.error();

  // Fetch the artifact and verify it, before anything is started.
  auto fetch_start = Clock::now();
  auto release = fetch_release(host, request);
  if (!release) return release.error();
  PhaseDurations durations_ms = {{"fetch", elapsed_ms(fetch_start)}};
  log::info("releases/{}: {} (sha256 {})", release->version, release->artifact, release->sha256);
  test_pause("fetched");
  if (interrupted()) {
    return Error{ExitCode::Interrupted,
                 settings.app + " " + release->version + ": interrupted before anything started"};
  }

  // Start, gate, switch, drain, record.
  return start_and_switch(host, *release, "deploy", std::move(durations_ms));
}

Result<std::vector<std::string>> plan_switch_traffic(const HostSettings& settings,
                                                     const SwitchRequest& request) {
  Host host(settings);
  if (auto loaded = host.load(); !loaded) return loaded.error();
  auto live = host.live_port();
  if (!live) return live.error();
  auto idle = host.idle_port();
  if (!idle) return idle.error();
  std::string version = early_version(request);
  std::vector<std::string> plan;
  plan.push_back("take the lock " + host.paths().lock_file().string());
  plan.push_back("fetch " + request.artifact + " into " +
                 host.paths().release_dir(version).string() + " and verify its sha256");
  plan.push_back("start " + settings.app + " " + version + " on port " + std::to_string(*idle) +
                 " (" + settings.slot_name(*idle) + ")");
  plan.push_back("wait until http://127.0.0.1:" + std::to_string(*idle) + settings.health.path +
                 " is healthy (up to " + format_duration(settings.health.timeout) + ")");
  plan.push_back(std::string("switch nginx (") +
                 (settings.nginx.mode == NginxMode::Reload ? "reload" : "seamless") + ") from " +
                 (*live ? "port " + std::to_string(**live) : std::string("nothing")) + " to port " +
                 std::to_string(*idle) + " and confirm through " + settings.nginx_url);
  if (*live) {
    plan.push_back("drain port " + std::to_string(**live) + " (up to " +
                   format_duration(settings.drain_timeout) + ") and " +
                   (settings.keep_warm.count() > 0
                        ? "keep it warm for " + format_duration(settings.keep_warm)
                        : std::string("stop it")));
  }
  plan.push_back("record the release; keep " + std::to_string(settings.keep_releases) +
                 " releases");
  return plan;
}

void put_outcome(const SwitchOutcome& outcome, boost::json::object& result) {
  result["version"] = outcome.version;
  result["port"] = outcome.port;
  result["slot"] = outcome.slot;
  result["previous_version"] = outcome.previous_version;
  result["previous_port"] = outcome.previous_port;
  result["instant"] = outcome.instant;
  result["cut_requests"] = outcome.cut_requests;
  boost::json::object durations;
  for (const auto& [phase, ms] : outcome.durations_ms)
    durations[phase + "_ms"] = ms;
  result["durations"] = std::move(durations);
  boost::json::array deleted;
  for (const auto& version : outcome.deleted_releases)
    deleted.emplace_back(version);
  result["deleted_releases"] = std::move(deleted);
}

}  // namespace switchyard
