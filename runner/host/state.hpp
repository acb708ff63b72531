// What a host remembers between deploys (DESIGN.md, "Host state"), all under
// one state directory, by default /var/lib/switchyard/<app>/:
//
//   state.json       which slot runs what: port, version, pid, status
//   history.jsonl    one line per deploy, rollback and restore, append-only
//   lock             the host lock (host_lock.hpp)
//   releases/<v>/    the artifact, its manifest, release.json, slot logs
//
// state.json is replaced atomically (temp file, fsync, rename); history lines
// are appended with O_APPEND and fsynced, so a deploy killed at any instant
// leaves either the old or the new file, never half of one.
#pragma once

#include <sys/types.h>

#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

struct HostPaths {
  std::filesystem::path state_dir;

  std::filesystem::path state_file() const { return state_dir / "state.json"; }
  std::filesystem::path history_file() const { return state_dir / "history.jsonl"; }
  std::filesystem::path lock_file() const { return state_dir / "lock"; }
  std::filesystem::path releases_dir() const { return state_dir / "releases"; }
  std::filesystem::path release_dir(std::string_view version) const {
    return releases_dir() / std::string(version);
  }
};

// The life of a slot, as recorded before each change is made, so that a
// deploy killed between two lines still leaves a trace the next one reads.
enum class SlotStatus {
  Starting,  // spawned by a deploy that has not switched to it (yet)
  Live,      // nginx points here
  Warm,      // the previous live slot, kept running until `warm_until`
  Stopped,   // nothing runs here
};

std::string_view to_string(SlotStatus status);

struct SlotRecord {
  int port = 0;
  std::string slot;  // "blue" (the first port) or "green" (the second)
  std::string version;
  std::string sha256;
  std::filesystem::path artifact;
  std::filesystem::path log_file;
  pid_t pid = 0;  // also the process group id; 0 in systemd mode until known
  // The kernel's start time of `pid` (/proc/<pid>/stat, field 22): a pid
  // that the kernel reused for another program never matches it, so a slot
  // is never stopped by a stale pid.
  std::uint64_t start_ticks = 0;
  std::string token;  // SWITCHYARD_SLOT_TOKEN in the slot's environment (slots.hpp)
  SlotStatus status = SlotStatus::Stopped;
  std::string since;       // RFC 3339 UTC: when it reached `status`
  std::string warm_until;  // RFC 3339 UTC, for Warm
};

struct HostState {
  std::string app;
  std::vector<SlotRecord> slots;  // at most one per port
  std::string previous_version;   // what was live before the live one

  const SlotRecord* find_port(int port) const;
  SlotRecord* find_port(int port);
  // The slot recorded as live, if any.
  const SlotRecord* live() const;
  // Replaces the record for `record.port`, or adds it.
  void put(const SlotRecord& record);
};

boost::json::object state_to_json(const HostState& state);
// Fails (exit 2) naming `origin` when the document is not a state file.
Result<HostState> state_from_json(const boost::json::value& value, std::string_view origin);

// Reads state.json; a missing file is an empty state (a host never deployed).
Result<HostState> read_state(const HostPaths& paths);
// Atomic replacement of state.json.
Result<void> write_state(const HostPaths& paths, const HostState& state);

// One deploy, rollback or restore, as a line of history.jsonl.
struct HistoryRecord {
  std::string time;    // RFC 3339 UTC, when it ended
  std::string action;  // "deploy", "rollback", "restore"
  std::string who;     // the CI run URL, or user@host
  std::string app;
  std::string version;
  std::string sha256;
  std::string from_version;
  int from_port = 0;
  std::string from_slot;
  int to_port = 0;
  std::string to_slot;
  std::string outcome;      // "success", "failed", "interrupted"
  std::string reason;       // the one-line error, for a failure
  std::string last_health;  // the last health answer of the new slot, for a failure
  std::string log_tail;     // the new slot's last log lines, for a failure
  // Milliseconds spent in each phase that ran: fetch, boot, healthy,
  // switched, drained (boot: spawn; healthy: the health gate).
  std::vector<std::pair<std::string, std::int64_t>> durations_ms;
};

boost::json::object history_to_json(const HistoryRecord& record);
HistoryRecord history_from_json(const boost::json::object& object);

// Appends `record` as one line with O_APPEND and fsync.
Result<void> append_history(const HostPaths& paths, const HistoryRecord& record);
// Every line of history.jsonl, oldest first; unreadable lines are skipped.
std::vector<HistoryRecord> read_history(const HostPaths& paths);

// Who is deploying, for history and the lock: the CI run's URL
// (GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID, Jenkins'
// BUILD_URL), else user@hostname; SWITCHYARD_REQUESTED_BY, set by
// request-deploy's host agent, wins.
std::string deploy_actor(const std::map<std::string, std::string>& environment);

// Now, as RFC 3339 UTC with seconds ("2026-11-23T15:02:11Z").
std::string utc_now();
// The time `delay` from now, written as utc_now() writes it.
std::string utc_after(Duration delay);
// Parses what utc_now() writes; nullopt for anything else.
std::optional<std::int64_t> parse_utc(std::string_view text);

// A kept release: releases/<version>/release.json.
struct ReleaseInfo {
  std::string version;
  std::string sha256;
  std::string artifact;     // file name inside the release directory
  std::string app_version;  // what the service reports, from the manifest
  std::string fetched_at;   // RFC 3339 UTC
  std::string source;       // where it was fetched from
};

std::filesystem::path release_artifact(const HostPaths& paths, const ReleaseInfo& release);
// Writes release.json into `directory` (the release directory, or the
// partial one it is fetched into); its presence marks the release complete.
Result<void> write_release_info(const std::filesystem::path& directory, const ReleaseInfo& release);
Result<ReleaseInfo> read_release_info(const HostPaths& paths, std::string_view version);
// Every complete release, oldest fetch first (half-fetched ones are not listed).
std::vector<ReleaseInfo> list_releases(const HostPaths& paths);

// Directories a killed deploy left in releases/ (".partial-*", ".deleting-*").
std::vector<std::filesystem::path> leftover_release_dirs(const HostPaths& paths);

// Deletes the oldest releases beyond `keep`, never one named in `protect`
// (the live release and the one before it, and any slot still running).
// Returns the versions deleted.
std::vector<std::string> apply_retention(const HostPaths& paths, int keep,
                                         const std::vector<std::string>& protect);

// The last `max_lines` lines of `file` (at most 4 KiB), for failure reports.
std::string file_tail(const std::filesystem::path& file, int max_lines);

}  // namespace switchyard
