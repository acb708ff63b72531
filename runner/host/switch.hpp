// The zero-downtime switch on one host (DESIGN.md, "Zero-downtime switch on
// one host"): take the lock, clean what a killed deploy left, fetch and verify
// the artifact, start the idle slot, gate it on health, switch nginx, confirm
// through nginx, drain and stop the old slot, record the release.
//
// Crash safety: nginx only ever points at a slot after that slot passed its
// health gate, and every change is written to state.json before it is made,
// so a deploy killed at any instant leaves nginx on a healthy slot and a
// trace the next deploy cleans up (Host::clean_leftovers).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runner/host/lock.hpp"
#include "runner/host/nginx.hpp"
#include "runner/host/settings.hpp"
#include "runner/host/slots.hpp"
#include "runner/host/state.hpp"
#include "runner/net/health.hpp"
#include "runner/store/store.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

using PhaseDurations = std::vector<std::pair<std::string, std::int64_t>>;

// One host command's view of the host: its settings, state, nginx and slots.
class Host {
 public:
  explicit Host(HostSettings settings);

  const HostSettings& settings() const { return m_settings; }
  const HostPaths& paths() const { return m_settings.paths; }
  HostState& state() { return m_state; }
  Nginx& nginx() { return m_nginx; }
  SlotRunner& slots() { return *m_slots; }

  // Takes the host lock as `action` ("deploying") of `version`, waiting up
  // to target.lock_timeout (exit 4 naming the holder).
  Result<void> lock(std::string action, std::string version);
  // Reads state.json (exit 2 when it is damaged).
  Result<void> load();
  // Writes state.json.
  Result<void> save();

  // Cleans what a killed command left: half-fetched releases, a slot left
  // "starting", an old slot that nginx no longer points at, a warm slot past
  // its time. nginx is the truth about which slot is live.
  Result<void> clean_leftovers();

  // The port nginx points at now; nullopt before the first deploy.
  Result<std::optional<int>> live_port();
  // The slot a new release starts on: the configured port nginx does not
  // point at (the first port when nginx points at neither).
  Result<int> idle_port();

 private:
  HostSettings m_settings;
  HostState m_state;
  Nginx m_nginx;
  std::unique_ptr<SlotRunner> m_slots;
  HostLock m_lock;
};

// What a finished switch (deploy or rollback) reports.
struct SwitchOutcome {
  std::string version;
  int port = 0;
  std::string slot;
  std::string previous_version;
  int previous_port = 0;
  bool instant = false;  // a warm slot was switched to, nothing started
  // Requests nginx still had in flight to the old slot when target.drain_timeout
  // ran out and the old slot was stopped anyway (Nginx::requests_in_flight):
  // cut, unless the service finished them within target.stop_grace.
  int cut_requests = 0;
  PhaseDurations durations_ms;
  std::vector<std::string> deleted_releases;
};

// Starts `release` on the idle slot, gates it on health, switches nginx to
// it, confirms, drains and stops (or keeps warm) the old slot, records state,
// history (as `action`: "deploy" or "rollback") and applies retention.
// `durations_ms` holds the phases already done (fetch). On failure the old
// slot keeps serving, history says why, and the error is one line (exit 1).
Result<SwitchOutcome> start_and_switch(Host& host, const ReleaseInfo& release,
                                       const std::string& action, PhaseDurations durations_ms);

// Switches nginx to the warm slot on `port` (already running and healthy):
// the instant rollback.
Result<SwitchOutcome> switch_to_warm(Host& host, int port, const std::string& action);

struct SwitchRequest {
  std::string artifact;  // a path, file://, s3:// or http(s)://
  std::string sha256;    // expected; empty: from the manifest beside it
  std::string version;   // empty: from the manifest, else the file name
  bool no_verify = false;
  StoreOptions store;
};

// switch-traffic: the whole deploy of `request`.
Result<SwitchOutcome> run_switch_traffic(const HostSettings& settings,
                                         const SwitchRequest& request);

// What switch-traffic would do, without doing it (--dry-run): lines for a person.
Result<std::vector<std::string>> plan_switch_traffic(const HostSettings& settings,
                                                     const SwitchRequest& request);

// The fields every host command puts in its --json result and CI outputs.
void put_outcome(const SwitchOutcome& outcome, boost::json::object& result);

// The health gate: probes `slot` directly (http://127.0.0.1:<port><path>)
// until it is healthy, giving up early when its process exits or the command
// is interrupted.
HealthReport gate_on_health(Host& host, const SlotRecord& slot);

// The last health answer in `report`, for history and messages.
std::string last_health_answer(const HealthReport& report);

// A test seam (documented in docs/HOST.md), compiled only into a build with
// SWITCHYARD_TEST_SEAMS (CMakeLists.txt: test builds, never a Release one):
// when SWITCHYARD_TEST_PAUSE_AT names `phase`, print "switchyard: test pause
// at <phase>" and sleep, so a test can kill the command at a known point.
// Elsewhere it does nothing.
void test_pause(std::string_view phase);

// True in a build that carries the test seams (tests skip without them).
bool test_seams_compiled();

// The version a release's service reports: its manifest's app_version, else
// the release version.
bool reported_version_matches(std::string_view reported, const ReleaseInfo& release);

}  // namespace switchyard
