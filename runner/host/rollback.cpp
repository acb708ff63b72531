#include "runner/host/rollback.hpp"

#include <algorithm>

#include "runner/core/log.hpp"
#include "runner/util/sha256.hpp"

namespace switchyard {

namespace {

std::string kept_versions(const HostPaths& paths) {
  std::string text;
  for (const auto& release : list_releases(paths)) {
    if (!text.empty()) text += ", ";
    text += release.version;
  }
  return text.empty() ? "none" : text;
}

}  // namespace

Result<SwitchOutcome> run_rollback(const HostSettings& settings, const RollbackRequest& request) {
  Host host(settings);

  // Take the lock.
  std::string label = request.to.empty() ? "the previous release" : request.to;
  if (auto locked = host.lock("rolling back to", label); !locked) return locked.error();
  test_pause("locked");

  // Clean what a killed command left.
  if (auto loaded = host.load(); !loaded) return loaded.error();
  if (auto cleaned = host.clean_leftovers(); !cleaned) return cleaned.error();

  // Choose the release to go back to.
  const SlotRecord* live = host.state().live();
  std::string target = request.to.empty() ? host.state().previous_version : request.to;
  if (target.empty()) {
    return usage_error(settings.app +
                       ": no previous release is recorded; name one with --to (kept: " +
                       kept_versions(host.paths()) + ")");
  }
  if (live != nullptr && live->version == target) {
    return usage_error(settings.app + " " + target + ": already live on port " +
                       std::to_string(live->port) + "; nothing to roll back");
  }

  // Instant: the release still runs warm on the idle slot.
  auto idle = host.idle_port();
  if (!idle) return idle.error();
  if (const auto* warm = host.state().find_port(*idle);
      warm != nullptr && warm->status == SlotStatus::Warm && warm->version == target &&
      host.slots().running(*warm)) {
    log::info("{} {}: still warm on port {}; switching back to it", settings.app, target, *idle);
    return switch_to_warm(host, *idle, "rollback");
  }

  // From disk: the kept release, checked against its recorded sha256.
  auto release = read_release_info(host.paths(), target);
  if (!release) {
    return usage_error(host.paths().release_dir(target).string() +
                       ": not a kept release; kept: " + kept_versions(host.paths()));
  }
  auto artifact = release_artifact(host.paths(), *release);
  auto sha256 = sha256_file(artifact);
  if (!sha256) return sha256.error();
  if (*sha256 != release->sha256) {
    return failure(artifact.string() + ": sha256 is " + *sha256 + " but was " + release->sha256 +
                   " when it was fetched; the file changed on disk; deploy that version again");
  }
  log::info("{} {}: starting it again from {}", settings.app, target, artifact.string());
  return start_and_switch(host, *release, "rollback", {});
}

Result<std::vector<KeptRelease>> list_kept_releases(const HostSettings& settings) {
  auto state = read_state(settings.paths);
  if (!state) return state.error();
  auto runner = make_slot_runner(settings.slots, settings.paths.state_dir);
  std::vector<KeptRelease> kept;
  for (const auto& release : list_releases(settings.paths)) {
    KeptRelease entry;
    entry.release = release;
    const auto* live = state->live();
    entry.live = live != nullptr && live->version == release.version;
    entry.previous = release.version == state->previous_version;
    for (const auto& slot : state->slots) {
      if (slot.status == SlotStatus::Warm && slot.version == release.version &&
          runner->running(slot)) {
        entry.warm = true;
      }
    }
    kept.push_back(entry);
  }
  std::reverse(kept.begin(), kept.end());
  return kept;
}

std::string format_kept_releases(const std::vector<KeptRelease>& releases) {
  if (releases.empty()) return "no releases kept yet\n";
  std::size_t width = 7;
  for (const auto& entry : releases)
    width = std::max(width, entry.release.version.size());
  std::string text;
  auto row = [&](std::string_view mark, std::string_view version, std::string_view fetched,
                 std::string_view sha, std::string_view note) {
    std::string line(mark);
    line += ' ';
    line += version;
    line.append(width - version.size() + 2, ' ');
    line += fetched;
    line.append(fetched.size() < 22 ? 22 - fetched.size() : 1, ' ');
    line += sha;
    if (!note.empty()) {
      line += "  ";
      line += note;
    }
    text += line + "\n";
  };
  row(" ", "VERSION", "FETCHED", "SHA256", "");
  for (const auto& entry : releases) {
    std::string note = entry.live       ? "live"
                       : entry.warm     ? "previous, warm (instant rollback)"
                       : entry.previous ? "previous (default rollback)"
                                        : "";
    row(entry.live ? "*" : " ", entry.release.version, entry.release.fetched_at,
        entry.release.sha256.substr(0, 12), note);
  }
  return text;
}

}  // namespace switchyard
