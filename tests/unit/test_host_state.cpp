#include "runner/host/state.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "runner/util/atomic_file.hpp"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

class HostStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "switchyard-state-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    m_paths.state_dir = templ;
  }
  void TearDown() override { fs::remove_all(m_paths.state_dir); }

  // A complete release directory with `fetched_at` for ordering.
  void make_release(const std::string& version, const std::string& fetched_at) {
    ReleaseInfo release;
    release.version = version;
    release.sha256 = std::string(64, 'a');
    release.artifact = "hello.jar";
    release.fetched_at = fetched_at;
    ASSERT_TRUE(write_release_info(m_paths.release_dir(version), release));
    std::ofstream(m_paths.release_dir(version) / "hello.jar") << "jar";
  }

  std::vector<std::string> kept() {
    std::vector<std::string> versions;
    for (const auto& release : list_releases(m_paths))
      versions.push_back(release.version);
    return versions;
  }

  HostPaths m_paths;
};

TEST_F(HostStateTest, AMissingStateFileIsAHostNeverDeployed) {
  auto state = read_state(m_paths);
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->slots.empty());
  EXPECT_EQ(state->live(), nullptr);
}

TEST_F(HostStateTest, StateSurvivesAWriteAndARead) {
  HostState state;
  state.app = "hello";
  state.previous_version = "1.0.0";
  SlotRecord live;
  live.port = 8082;
  live.slot = "green";
  live.version = "2.0.0";
  live.sha256 = std::string(64, 'b');
  live.artifact = "/var/lib/switchyard/hello/releases/2.0.0/hello.jar";
  live.log_file = "/var/lib/switchyard/hello/releases/2.0.0/slot-8082.log";
  live.pid = 4242;
  live.start_ticks = 123456789;
  live.token = "0123abcd";
  live.status = SlotStatus::Live;
  live.since = "2026-11-23T15:02:11Z";
  SlotRecord warm = live;
  warm.port = 8081;
  warm.slot = "blue";
  warm.version = "1.0.0";
  warm.status = SlotStatus::Warm;
  warm.warm_until = "2026-11-23T15:07:11Z";
  state.put(live);
  state.put(warm);
  ASSERT_TRUE(write_state(m_paths, state));

  auto read = read_state(m_paths);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->app, "hello");
  EXPECT_EQ(read->previous_version, "1.0.0");
  ASSERT_EQ(read->slots.size(), 2u);
  EXPECT_EQ(read->slots[0].port, 8081) << "slots are kept in port order";
  const auto* back = read->live();
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->port, 8082);
  EXPECT_EQ(back->slot, "green");
  EXPECT_EQ(back->version, "2.0.0");
  EXPECT_EQ(back->sha256, live.sha256);
  EXPECT_EQ(back->artifact, live.artifact);
  EXPECT_EQ(back->log_file, live.log_file);
  EXPECT_EQ(back->pid, 4242);
  EXPECT_EQ(back->start_ticks, 123456789u);
  EXPECT_EQ(back->token, "0123abcd");
  EXPECT_EQ(back->since, "2026-11-23T15:02:11Z");
  EXPECT_EQ(read->find_port(8081)->status, SlotStatus::Warm);
  EXPECT_EQ(read->find_port(8081)->warm_until, "2026-11-23T15:07:11Z");

  // put() replaces the record of a port.
  warm.status = SlotStatus::Stopped;
  read->put(warm);
  EXPECT_EQ(read->slots.size(), 2u);
  EXPECT_EQ(read->find_port(8081)->status, SlotStatus::Stopped);
}

TEST_F(HostStateTest, ADamagedStateFileIsBadInputNamingTheFile) {
  ASSERT_TRUE(write_file_atomically(m_paths.state_file(), "{not json"));
  auto state = read_state(m_paths);
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().code, ExitCode::Usage);
  EXPECT_EQ(state.error().message.rfind(m_paths.state_file().string() + ": not valid JSON (", 0),
            0u)
      << state.error().message;
  EXPECT_NE(state.error().message.find("; nothing was changed and the file is kept; move it aside"),
            std::string::npos);

  ASSERT_TRUE(write_file_atomically(m_paths.state_file(),
                                    R"({"slots":[{"port":8081,"status":"sleeping"}]})"));
  state = read_state(m_paths);
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().message,
            m_paths.state_file().string() +
                ": slot 8081 has an unknown status; fix or remove the file (switchyard rewrites "
                "it on the next deploy)");
}

// Numbers that name processes and ports are read exactly: a pid past 2^32
// is not truncated to someone else's, pid 1 (init) and negative ones are no
// slot's, and such a file is reported before anything acts on it.
TEST_F(HostStateTest, PidsAndPortsNoSlotCanHaveAreBadInputNamingTheSlot) {
  auto error_for = [&](const std::string& slot) {
    EXPECT_TRUE(write_file_atomically(m_paths.state_file(), R"({"slots":[)" + slot + "]}"));
    auto state = read_state(m_paths);
    if (state) return std::string("(read without error)");
    EXPECT_EQ(state.error().code, ExitCode::Usage);
    std::string message = state.error().message;
    std::string prefix = m_paths.state_file().string() + ": ";
    EXPECT_EQ(message.rfind(prefix, 0), 0u) << message;
    return message.substr(prefix.size());
  };
  const std::string tail = "; fix or remove the file (switchyard rewrites it on the next deploy)";
  for (const char* pid :
       {"1", "-1", "4194305", "4294968530", "18446744073709551615", "1.5", "\"1234\"", "true"}) {
    std::string shown = std::string(pid).find_first_not_of("-0123456789") == std::string::npos
                            ? pid
                            : "not a whole number";
    if (std::string(pid) == "18446744073709551615") shown = "not a whole number";
    EXPECT_EQ(error_for(R"({"port":8081,"status":"live","pid":)" + std::string(pid) + "}"),
              "the slot on port 8081 records a pid no slot can have (" + shown +
                  "); nothing was signalled" + tail)
        << pid;
  }
  for (const char* port : {"0", "-8081", "65536", "4294975377", "8081.5"}) {
    EXPECT_EQ(error_for(R"({"port":)" + std::string(port) + R"(,"status":"live"})"),
              "a slot has no port from 1 to 65535" + tail)
        << port;
  }
  EXPECT_EQ(error_for(R"({"port":8081,"status":"live","pid":1234,"start_ticks":-5})"),
            "the slot on port 8081 records a start_ticks that is not a count" + tail);
  EXPECT_EQ(error_for(R"({"port":8081,"status":"live"},{"port":8081,"status":"stopped"})"),
            "port 8081 has two slots" + tail);
  // No pid at all (systemd mode before it knows one) is fine, and so is the
  // largest pid Linux hands out.
  EXPECT_EQ(
      error_for(R"({"port":8082,"status":"stopped"},{"port":8081,"status":"live","pid":4194304})"),
      "(read without error)");
  auto state = read_state(m_paths);
  ASSERT_TRUE(state);
  ASSERT_EQ(state->slots.size(), 2u);
  EXPECT_EQ(state->slots[0].port, 8081) << "slots are kept in port order";
  EXPECT_EQ(state->slots[0].pid, 4194304);
}

// The probe's state.json of 100,000 slots made `status` take more than 5 s:
// every slot read re-sorted the list. Reading is n log n now; the bound is
// generous for a busy machine and a sanitizer build (the quadratic reading
// took minutes for this many).
TEST_F(HostStateTest, AStateFileOfManySlotsReadsQuickly) {
  std::string text = R"({"app":"hello","slots":[)";
  constexpr int k_slots = 65535;
  for (int port = k_slots; port >= 1; --port) {  // reverse order: the worst for sorting on insert
    if (port != k_slots) text += ",";
    text += R"({"port":)" + std::to_string(port) + R"(,"slot":"blue","version":"1.0","pid":0,)" +
            R"("status":")" + (port == 8081 ? "live" : "stopped") + R"("})";
  }
  text += "]}";
  ASSERT_TRUE(write_file_atomically(m_paths.state_file(), text));
  auto start = std::chrono::steady_clock::now();
  auto state = read_state(m_paths);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->slots.size(), static_cast<std::size_t>(k_slots));
  EXPECT_EQ(state->slots.front().port, 1);
  ASSERT_NE(state->live(), nullptr);
  EXPECT_EQ(state->live()->port, 8081);
  EXPECT_LT(took, std::chrono::seconds(10))
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

TEST_F(HostStateTest, HistoryAppendsOneJsonLinePerRecord) {
  HistoryRecord first;
  first.time = "2026-11-23T15:02:11Z";
  first.action = "deploy";
  first.who = "https://github.com/acme/hello/actions/runs/42";
  first.app = "hello";
  first.version = "2.0.0";
  first.sha256 = std::string(64, 'c');
  first.from_version = "1.0.0";
  first.from_port = 8081;
  first.from_slot = "blue";
  first.to_port = 8082;
  first.to_slot = "green";
  first.outcome = "success";
  first.durations_ms = {
      {"fetch", 12}, {"boot", 3}, {"healthy", 900}, {"switched", 40}, {"drained", 510}};
  HistoryRecord second = first;
  second.version = "3.0.0";
  second.outcome = "failed";
  second.reason = "hello 3.0.0 on port 8081: not healthy after 30s (status DOWN)";
  second.last_health = "status DOWN (HTTP 503: {\"status\":\"DOWN\"})";
  second.log_tail = "line one\nline two";
  ASSERT_TRUE(append_history(m_paths, first));
  ASSERT_TRUE(append_history(m_paths, second));

  std::ifstream in(m_paths.history_file());
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_EQ(line.front(), '{');
    EXPECT_EQ(line.back(), '}');
  }
  EXPECT_EQ(lines, 2) << "a multi-line log tail must stay on its one line";

  auto history = read_history(m_paths);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].who, first.who);
  EXPECT_EQ(history[0].from_version, "1.0.0");
  EXPECT_EQ(history[0].from_port, 8081);
  EXPECT_EQ(history[0].to_slot, "green");
  EXPECT_EQ(history[0].durations_ms, first.durations_ms);
  EXPECT_EQ(history[1].reason, second.reason);
  EXPECT_EQ(history[1].last_health, second.last_health);
  EXPECT_EQ(history[1].log_tail, "line one\nline two");
}

TEST(DeployActor, NamesTheCiRunOrTheUser) {
  EXPECT_EQ(deploy_actor({{"GITHUB_SERVER_URL", "https://github.example.com"},
                          {"GITHUB_REPOSITORY", "acme/hello"},
                          {"GITHUB_RUN_ID", "42"}}),
            "https://github.example.com/acme/hello/actions/runs/42");
  EXPECT_EQ(deploy_actor({{"GITHUB_REPOSITORY", "acme/hello"}, {"GITHUB_RUN_ID", "7"}}),
            "https://github.com/acme/hello/actions/runs/7");
  EXPECT_EQ(deploy_actor({{"BUILD_URL", "https://jenkins.example.com/job/hello/12/"}}),
            "https://jenkins.example.com/job/hello/12/");
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  EXPECT_EQ(deploy_actor({{"USER", "alice"}}), std::string("alice@") + host);
}

TEST(UtcTime, ReadsBackWhatItWrites) {
  auto now = utc_now();
  ASSERT_EQ(now.size(), 20u) << now;
  EXPECT_TRUE(parse_utc(now).has_value());
  EXPECT_EQ(parse_utc("1970-01-01T00:01:00Z"), 60);
  EXPECT_FALSE(parse_utc("yesterday").has_value());
}

TEST(UtcTime, AfterADelayIsThatMuchLater) {
  auto before = parse_utc(utc_now());
  auto later = parse_utc(utc_after(std::chrono::minutes(2)));
  auto after = parse_utc(utc_now());
  ASSERT_TRUE(before && later && after);
  EXPECT_GE(*later, *before + 120);
  EXPECT_LE(*later, *after + 120);
}

TEST_F(HostStateTest, RetentionKeepsNAndNeverTheProtectedOnes) {
  make_release("1.0.0", "2026-11-23T10:00:00Z");
  make_release("2.0.0", "2026-11-23T11:00:00Z");
  make_release("3.0.0", "2026-11-23T12:00:00Z");
  make_release("4.0.0", "2026-11-23T13:00:00Z");
  make_release("5.0.0", "2026-11-23T14:00:00Z");
  EXPECT_EQ(kept(), (std::vector<std::string>{"1.0.0", "2.0.0", "3.0.0", "4.0.0", "5.0.0"}));

  // 1.0.0 is live again (a rollback) and 5.0.0 the one before it.
  auto deleted = apply_retention(m_paths, 2, {"1.0.0", "5.0.0"});
  EXPECT_EQ(deleted, (std::vector<std::string>{"2.0.0", "3.0.0", "4.0.0"}));
  EXPECT_EQ(kept(), (std::vector<std::string>{"1.0.0", "5.0.0"}));
  EXPECT_TRUE(leftover_release_dirs(m_paths).empty());

  // Nothing beyond N: nothing deleted, even unprotected.
  EXPECT_TRUE(apply_retention(m_paths, 5, {}).empty());
}

TEST_F(HostStateTest, LeftoversAreHalfFetchedOrHalfDeletedReleases) {
  make_release("1.0.0", "2026-11-23T10:00:00Z");
  fs::create_directories(m_paths.releases_dir() / ".partial-123-abcd");
  fs::create_directories(m_paths.releases_dir() / ".deleting-0.9.0");
  fs::create_directories(m_paths.releases_dir() / "2.0.0");  // no release.json
  auto leftovers = leftover_release_dirs(m_paths);
  ASSERT_EQ(leftovers.size(), 3u);
  EXPECT_EQ(leftovers[0].filename(), ".deleting-0.9.0");
  EXPECT_EQ(leftovers[1].filename(), ".partial-123-abcd");
  EXPECT_EQ(leftovers[2].filename(), "2.0.0");
  EXPECT_EQ(kept(), (std::vector<std::string>{"1.0.0"}));
}

TEST_F(HostStateTest, FileTailGivesTheLastLines) {
  auto file = m_paths.state_dir / "slot.log";
  std::ofstream(file) << "one\ntwo\nthree\nfour\n";
  EXPECT_EQ(file_tail(file, 2), "three\nfour");
  EXPECT_EQ(file_tail(file, 10), "one\ntwo\nthree\nfour");
  EXPECT_EQ(file_tail(m_paths.state_dir / "missing.log", 5), "");
}

}  // namespace
}  // namespace switchyard
