#include "runner/host/state.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <sstream>

#include "runner/util/atomic_file.hpp"
#include "runner/util/file_descriptor.hpp"
#include "runner/util/time.hpp"

namespace switchyard {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string string_member(const json::object& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || !it->value().is_string()) return "";
  return std::string(it->value().as_string());
}

std::int64_t integer_member(const json::object& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end()) return 0;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().as_uint64());
  return 0;
}

// The highest pid Linux hands out (PID_MAX_LIMIT on 64-bit kernels).
constexpr std::int64_t k_max_pid = 4'194'304;

// A whole number member read exactly: nullopt when present but not an
// integer (a fraction, a string, past int64); `missing` when absent.
std::optional<std::int64_t> exact_integer_member(const json::object& object, std::string_view key,
                                                 std::int64_t missing) {
  auto it = object.find(key);
  if (it == object.end() || it->value().is_null()) return missing;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64()) {
    auto value = it->value().as_uint64();
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return std::nullopt;
    return static_cast<std::int64_t>(value);
  }
  return std::nullopt;
}

std::optional<SlotStatus> status_from_string(std::string_view text) {
  for (auto status :
       {SlotStatus::Starting, SlotStatus::Live, SlotStatus::Warm, SlotStatus::Stopped}) {
    if (to_string(status) == text) return status;
  }
  return std::nullopt;
}

json::object slot_to_json(const SlotRecord& slot) {
  json::object object;
  object["port"] = slot.port;
  object["slot"] = slot.slot;
  object["version"] = slot.version;
  object["sha256"] = slot.sha256;
  object["artifact"] = slot.artifact.string();
  object["log"] = slot.log_file.string();
  object["pid"] = slot.pid;
  object["start_ticks"] = slot.start_ticks;
  object["token"] = slot.token;
  object["status"] = to_string(slot.status);
  object["since"] = slot.since;
  if (!slot.warm_until.empty()) object["warm_until"] = slot.warm_until;
  return object;
}

Result<std::string> read_whole_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return usage_error(path.string() + ": cannot read (" + errno_text() + ")");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string_view to_string(SlotStatus status) {
  switch (status) {
    case SlotStatus::Starting:
      return "starting";
    case SlotStatus::Live:
      return "live";
    case SlotStatus::Warm:
      return "warm";
    case SlotStatus::Stopped:
      return "stopped";
  }
  return "stopped";
}

const SlotRecord* HostState::find_port(int port) const {
  for (const auto& slot : slots) {
    if (slot.port == port) return &slot;
  }
  return nullptr;
}

SlotRecord* HostState::find_port(int port) {
  for (auto& slot : slots) {
    if (slot.port == port) return &slot;
  }
  return nullptr;
}

const SlotRecord* HostState::live() const {
  for (const auto& slot : slots) {
    if (slot.status == SlotStatus::Live) return &slot;
  }
  return nullptr;
}

void HostState::put(const SlotRecord& record) {
  if (auto* existing = find_port(record.port)) {
    *existing = record;
    return;
  }
  // Kept in port order: insert at its place rather than sort the whole list.
  auto place = std::lower_bound(slots.begin(), slots.end(), record.port,
                                [](const SlotRecord& slot, int port) { return slot.port < port; });
  slots.insert(place, record);
}

json::object state_to_json(const HostState& state) {
  json::object object;
  object["app"] = state.app;
  json::array slots;
  for (const auto& slot : state.slots)
    slots.push_back(slot_to_json(slot));
  object["slots"] = std::move(slots);
  object["previous_version"] = state.previous_version;
  if (const auto* live = state.live()) {
    // Redundant with `slots`, for a person reading the file.
    object["live_version"] = live->version;
    object["live_port"] = live->port;
  }
  return object;
}

Result<HostState> state_from_json(const json::value& value, std::string_view origin) {
  auto bad = [&](std::string_view what) {
    return usage_error(std::string(origin) + ": " + std::string(what) +
                       "; fix or remove the file (switchyard rewrites it on the next deploy)");
  };
  if (!value.is_object()) return bad("not a JSON object");
  const auto& object = value.as_object();
  HostState state;
  state.app = string_member(object, "app");
  state.previous_version = string_member(object, "previous_version");
  auto slots = object.find("slots");
  if (slots != object.end()) {
    if (!slots->value().is_array()) return bad("\"slots\" is not a list");
    state.slots.reserve(slots->value().as_array().size());
    for (const auto& item : slots->value().as_array()) {
      if (!item.is_object()) return bad("a slot is not an object");
      const auto& entry = item.as_object();
      SlotRecord slot;
      // Numbers are checked, never truncated: a pid of 2^32 + 1234 must not
      // become 1234, someone else's process.
      auto port = exact_integer_member(entry, "port", 0);
      if (!port || *port < 1 || *port > 65535) return bad("a slot has no port from 1 to 65535");
      slot.port = static_cast<int>(*port);
      std::string subject = "the slot on port " + std::to_string(slot.port);
      slot.slot = string_member(entry, "slot");
      slot.version = string_member(entry, "version");
      slot.sha256 = string_member(entry, "sha256");
      slot.artifact = string_member(entry, "artifact");
      slot.log_file = string_member(entry, "log");
      auto pid = exact_integer_member(entry, "pid", 0);
      if (!pid || *pid < 0 || *pid == 1 || *pid > k_max_pid) {
        return bad(subject + " records a pid no slot can have (" +
                   (pid ? std::to_string(*pid) : std::string("not a whole number")) +
                   "); nothing was signalled");
      }
      slot.pid = static_cast<pid_t>(*pid);
      auto ticks = exact_integer_member(entry, "start_ticks", 0);
      if (!ticks || *ticks < 0) return bad(subject + " records a start_ticks that is not a count");
      slot.start_ticks = static_cast<std::uint64_t>(*ticks);
      slot.token = string_member(entry, "token");
      auto status = status_from_string(string_member(entry, "status"));
      if (!status) return bad("slot " + std::to_string(slot.port) + " has an unknown status");
      slot.status = *status;
      slot.since = string_member(entry, "since");
      slot.warm_until = string_member(entry, "warm_until");
      state.slots.push_back(std::move(slot));
    }
    // Sorted once (put() would keep the order, one insert at a time: a state
    // file of many slots must read in n log n, not n squared).
    std::stable_sort(state.slots.begin(), state.slots.end(),
                     [](const SlotRecord& a, const SlotRecord& b) { return a.port < b.port; });
    auto twice = std::adjacent_find(
        state.slots.begin(), state.slots.end(),
        [](const SlotRecord& a, const SlotRecord& b) { return a.port == b.port; });
    if (twice != state.slots.end()) {
      return bad("port " + std::to_string(twice->port) + " has two slots");
    }
  }
  return state;
}

Result<HostState> read_state(const HostPaths& paths) {
  auto file = paths.state_file();
  std::error_code error;
  if (!fs::exists(file, error)) return HostState{};
  auto text = read_whole_file(file);
  if (!text) return text.error();
  json::error_code parse_error;
  auto value = json::parse(*text, parse_error);
  if (parse_error) {
    // Never rewritten over: it is the only record of which pid serves.
    return usage_error(file.string() + ": not valid JSON (" + parse_error.message() +
                       "); nothing was changed and the file is kept; move it aside (mv " +
                       file.string() + " " + file.string() +
                       ".broken) and deploy again; the slot it recorded is then yours to stop");
  }
  return state_from_json(value, file.string());
}

Result<void> write_state(const HostPaths& paths, const HostState& state) {
  std::error_code error;
  fs::create_directories(paths.state_dir, error);
  return write_file_atomically(paths.state_file(), json::serialize(state_to_json(state)) + "\n");
}

json::object history_to_json(const HistoryRecord& record) {
  json::object object;
  object["time"] = record.time;
  object["action"] = record.action;
  object["who"] = record.who;
  object["app"] = record.app;
  object["version"] = record.version;
  object["sha256"] = record.sha256;
  object["from"] = {
      {"version", record.from_version}, {"port", record.from_port}, {"slot", record.from_slot}};
  object["to"] = {{"port", record.to_port}, {"slot", record.to_slot}};
  object["outcome"] = record.outcome;
  if (!record.reason.empty()) object["reason"] = record.reason;
  if (!record.last_health.empty()) object["last_health"] = record.last_health;
  if (!record.log_tail.empty()) object["log_tail"] = record.log_tail;
  json::object durations;
  for (const auto& [phase, ms] : record.durations_ms)
    durations[phase] = ms;
  object["durations_ms"] = std::move(durations);
  return object;
}

HistoryRecord history_from_json(const json::object& object) {
  HistoryRecord record;
  record.time = string_member(object, "time");
  record.action = string_member(object, "action");
  record.who = string_member(object, "who");
  record.app = string_member(object, "app");
  record.version = string_member(object, "version");
  record.sha256 = string_member(object, "sha256");
  if (auto it = object.find("from"); it != object.end() && it->value().is_object()) {
    const auto& from = it->value().as_object();
    record.from_version = string_member(from, "version");
    record.from_port = static_cast<int>(integer_member(from, "port"));
    record.from_slot = string_member(from, "slot");
  }
  if (auto it = object.find("to"); it != object.end() && it->value().is_object()) {
    const auto& to = it->value().as_object();
    record.to_port = static_cast<int>(integer_member(to, "port"));
    record.to_slot = string_member(to, "slot");
  }
  record.outcome = string_member(object, "outcome");
  record.reason = string_member(object, "reason");
  record.last_health = string_member(object, "last_health");
  record.log_tail = string_member(object, "log_tail");
  if (auto it = object.find("durations_ms"); it != object.end() && it->value().is_object()) {
    for (const auto& [phase, ms] : it->value().as_object()) {
      if (ms.is_int64()) record.durations_ms.emplace_back(std::string(phase), ms.as_int64());
    }
  }
  return record;
}

Result<void> append_history(const HostPaths& paths, const HistoryRecord& record) {
  std::error_code error;
  fs::create_directories(paths.state_dir, error);
  auto file = paths.history_file();
  // One write() of one whole line with O_APPEND: concurrent appenders (there
  // are none under the lock, but a person may `echo >>`) never interleave.
  std::string line = json::serialize(history_to_json(record)) + "\n";
  FileDescriptor fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd.is_open()) {
    return unavailable(file.string() + ": cannot append (" + errno_text() +
                       "); check the permissions of " + paths.state_dir.string());
  }
  ssize_t n = ::write(fd.get(), line.data(), line.size());
  bool ok = n == static_cast<ssize_t>(line.size()) && ::fsync(fd.get()) == 0 && fd.close();
  std::string reason = errno_text();
  if (!ok)
    return unavailable(file.string() + ": append failed (" + reason + "); is the disk full?");
  return {};
}

std::vector<HistoryRecord> read_history(const HostPaths& paths) {
  std::vector<HistoryRecord> records;
  std::ifstream in(paths.history_file());
  std::string line;
  while (std::getline(in, line)) {
    json::error_code error;
    auto value = json::parse(line, error);
    if (error || !value.is_object()) continue;
    records.push_back(history_from_json(value.as_object()));
  }
  return records;
}

std::string deploy_actor(const std::map<std::string, std::string>& environment) {
  auto get = [&](const char* name) -> std::string {
    auto it = environment.find(name);
    return it == environment.end() ? "" : it->second;
  };
  // request-deploy's host agent passes on who asked on the CI side (ssh does
  // not forward the CI's environment).
  if (!get("SWITCHYARD_REQUESTED_BY").empty()) return get("SWITCHYARD_REQUESTED_BY");
  if (!get("GITHUB_RUN_ID").empty() && !get("GITHUB_REPOSITORY").empty()) {
    std::string server = get("GITHUB_SERVER_URL");
    if (server.empty()) server = "https://github.com";
    return server + "/" + get("GITHUB_REPOSITORY") + "/actions/runs/" + get("GITHUB_RUN_ID");
  }
  if (!get("BUILD_URL").empty()) return get("BUILD_URL");
  std::string user = get("USER");
  if (user.empty()) user = get("LOGNAME");
  if (user.empty()) user = "uid" + std::to_string(::getuid());
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) std::strcpy(host, "localhost");
  return user + "@" + host;
}

std::string utc_now() {
  return utc_after(Duration::zero());
}

std::string utc_after(Duration delay) {
  return rfc3339_utc(std::chrono::system_clock::now() + delay);
}

std::optional<std::int64_t> parse_utc(std::string_view text) {
  std::tm utc{};
  std::string copy(text);
  const char* end = ::strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<std::int64_t>(::timegm(&utc));
}

fs::path release_artifact(const HostPaths& paths, const ReleaseInfo& release) {
  return paths.release_dir(release.version) / release.artifact;
}

Result<void> write_release_info(const fs::path& directory, const ReleaseInfo& release) {
  std::error_code error;
  fs::create_directories(directory, error);
  json::object object;
  object["version"] = release.version;
  object["sha256"] = release.sha256;
  object["artifact"] = release.artifact;
  object["app_version"] = release.app_version;
  object["fetched_at"] = release.fetched_at;
  object["source"] = release.source;
  return write_file_atomically(directory / "release.json", json::serialize(object) + "\n");
}

Result<ReleaseInfo> read_release_info(const HostPaths& paths, std::string_view version) {
  auto file = paths.release_dir(version) / "release.json";
  auto text = read_whole_file(file);
  if (!text) {
    return usage_error(paths.release_dir(version).string() +
                       ": not a kept release; see `switchyard rollback --list`");
  }
  json::error_code error;
  auto value = json::parse(*text, error);
  if (error || !value.is_object()) {
    return usage_error(file.string() + ": not valid JSON; remove the release directory");
  }
  const auto& object = value.as_object();
  ReleaseInfo release;
  release.version = string_member(object, "version");
  release.sha256 = string_member(object, "sha256");
  release.artifact = string_member(object, "artifact");
  release.app_version = string_member(object, "app_version");
  release.fetched_at = string_member(object, "fetched_at");
  release.source = string_member(object, "source");
  if (release.version.empty() || release.artifact.empty()) {
    return usage_error(file.string() +
                       ": misses version or artifact; remove the release directory");
  }
  return release;
}

std::vector<ReleaseInfo> list_releases(const HostPaths& paths) {
  std::vector<ReleaseInfo> releases;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(paths.releases_dir(), error)) {
    auto name = entry.path().filename().string();
    if (!entry.is_directory() || name.empty() || name[0] == '.') continue;
    auto release = read_release_info(paths, name);
    if (release) releases.push_back(*release);
  }
  // RFC 3339 UTC sorts as text; the version breaks ties within one second.
  std::sort(releases.begin(), releases.end(), [](const ReleaseInfo& a, const ReleaseInfo& b) {
    return std::tie(a.fetched_at, a.version) < std::tie(b.fetched_at, b.version);
  });
  return releases;
}

std::vector<fs::path> leftover_release_dirs(const HostPaths& paths) {
  std::vector<fs::path> leftovers;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(paths.releases_dir(), error)) {
    auto name = entry.path().filename().string();
    if (name.rfind(".partial-", 0) == 0 || name.rfind(".deleting-", 0) == 0) {
      leftovers.push_back(entry.path());
      continue;
    }
    // A directory without release.json was never completed.
    if (entry.is_directory() && !fs::exists(entry.path() / "release.json", error)) {
      leftovers.push_back(entry.path());
    }
  }
  std::sort(leftovers.begin(), leftovers.end());
  return leftovers;
}

std::vector<std::string> apply_retention(const HostPaths& paths, int keep,
                                         const std::vector<std::string>& protect) {
  std::vector<std::string> deleted;
  auto releases = list_releases(paths);
  if (keep < 1) keep = 1;
  auto excess = static_cast<long>(releases.size()) - keep;
  for (const auto& release : releases) {
    if (excess <= 0) break;
    if (std::find(protect.begin(), protect.end(), release.version) != protect.end()) continue;
    // Rename first, so a crash in the middle of remove_all leaves a
    // ".deleting-" directory the next deploy removes, not half a release.
    auto directory = paths.release_dir(release.version);
    auto doomed = paths.releases_dir() / (".deleting-" + release.version);
    std::error_code error;
    fs::rename(directory, doomed, error);
    if (error) continue;
    fs::remove_all(doomed, error);
    deleted.push_back(release.version);
    --excess;
  }
  return deleted;
}

std::string file_tail(const fs::path& file, int max_lines) {
  constexpr std::streamoff k_max_bytes = 4096;
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff start = size > k_max_bytes ? size - k_max_bytes : 0;
  in.seekg(start);
  std::string text(static_cast<std::size_t>(size - start), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  std::size_t at = text.size();
  for (int lines = 0; lines < max_lines && at != std::string::npos && at > 0; ++lines) {
    at = text.rfind('\n', at - 1);
  }
  if (at != std::string::npos && at < text.size() && text[at] == '\n') ++at;
  if (at == std::string::npos) at = 0;
  return text.substr(at);
}

}  // namespace switchyard
