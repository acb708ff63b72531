#include "runner/host/warm_expiry.hpp"

#include <unistd.h>

#include "runner/core/log.hpp"
#include "runner/host/lock.hpp"
#include "runner/util/process.hpp"

namespace switchyard {

Result<void> expire_warm_slot(const HostPaths& paths, int port, const std::string& token,
                              Duration grace) {
  LockHolder self;
  self.pid = ::getpid();
  self.action = "stopping the warm slot on port";
  self.version = std::to_string(port);
  self.since = utc_now();
  auto lock = HostLock::acquire(paths.lock_file(), self, std::chrono::minutes(30));
  if (!lock) return lock.error();
  auto state = read_state(paths);
  if (!state) return state.error();
  auto* slot = state->find_port(port);
  // Anything else happened meanwhile (a rollback made it live, a deploy
  // replaced it): not ours to stop any more.
  if (slot == nullptr || slot->status != SlotStatus::Warm || slot->token != token) return {};
  log::info("port {}: {} was kept warm until {}; stopping it", port, slot->version,
            slot->warm_until);
  if (slot_process_running(*slot)) stop_process_group(slot->pid, grace);
  slot->status = SlotStatus::Stopped;
  slot->since = utc_now();
  slot->warm_until.clear();
  return write_state(paths, *state);
}

bool schedule_warm_expiry(const HostPaths& paths, const SlotRecord& slot, Duration keep_warm,
                          Duration grace) {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  // The switchyard command beside this step's executable, else in PATH.
  std::filesystem::path command = self.parent_path() / "switchyard";
  if (error || ::access(command.c_str(), X_OK) != 0) command = find_program("switchyard");
  if (command.empty()) {
    log::warn(
        "switchyard: not found beside {} or in PATH; the warm slot on port {} is stopped "
        "by the next deploy instead",
        self.string(), slot.port);
    return false;
  }
  ProcessSpec spec;
  spec.argv = {command.string(), "expire-warm",
               "--state-dir",    paths.state_dir.string(),
               "--port",         std::to_string(slot.port),
               "--token",        slot.token,
               "--after",        format_duration(keep_warm),
               "--grace",        format_duration(grace)};
  spec.unset_environment = k_job_kill_markers;
  auto spawned = spawn_detached(spec, paths.state_dir / "keep-warm.log");
  if (!spawned) {
    log::warn("{}; the warm slot on port {} is stopped by the next deploy instead",
              spawned.error().message, slot.port);
    return false;
  }
  return true;
}

}  // namespace switchyard
