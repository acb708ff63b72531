// request-deploy's side of one host's agent (agent.hpp has the protocol):
// start it, open the resolved configuration, read the status, take the
// lock, stream an artifact, run a step and wait for it, passing the host's
// log lines on as they come.
#pragma once

#include <boost/json.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/core/manifest.hpp"
#include "runner/deploy/channel.hpp"
#include "runner/deploy/remote_config.hpp"
#include "runner/deploy/transport.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// Called with each log line a host prints (from any thread).
using HostLogHandler = std::function<void(const HostAddress& host, std::string_view line)>;

class HostSession {
 public:
  HostSession(HostAddress address, HostLogHandler on_log);

  const HostAddress& address() const { return m_address; }

  // Starts the agent and checks it speaks this version's protocol. Exit 3
  // naming the host when switchyard is missing there or too different.
  Result<void> start(const ChannelSpec& agent);
  // Sends the resolved configuration; the host checks it (exit 2 naming the
  // key). With a presigned URL, a host whose agent does not fetch (an older
  // switchyard) is refused first, exit 3, and never gets the URL.
  Result<void> open(const RemoteConfig& config, const std::string& requested_by);
  // What the host runs now: the agent's "status" event.
  Result<boost::json::object> status();
  // Takes the host lock, waiting up to `timeout` (exit 4 naming the holder).
  Result<void> lock(Duration timeout, const std::string& action, const std::string& release);
  // Streams `file` into the host's staging area; returns the path there.
  Result<std::string> send_artifact(const std::filesystem::path& file);
  // Has the host fetch the presigned URL it was opened with into its
  // staging area, checking `sha256`, and put `manifest` beside it; returns
  // the path there.
  Result<std::string> fetch_presigned(const std::string& sha256,
                                      const std::optional<Manifest>& manifest);
  // Runs `step` (switch-traffic, rollback) with `args`; its "done" event.
  // `interruptible`: on Ctrl-C the step is told to stop (and undo itself).
  Result<boost::json::object> run(const std::string& step, const std::vector<std::string>& args,
                                  bool interruptible);
  // Stops the slot of a first deploy (nothing to roll back to).
  Result<boost::json::object> retire();
  // Ends the agent (which releases the lock) and waits for it.
  void close();

 private:
  Result<void> send(const boost::json::object& request);
  Result<boost::json::object> await(std::string_view wanted, bool interruptible);
  Result<std::string> staged_path(const std::string& doing);
  Error lost(const std::string& doing);

  HostAddress m_address;
  HostLogHandler m_on_log;
  Channel m_channel;
  std::vector<boost::json::object> m_events;
  std::string m_last_log;
  bool m_started = false;
  std::string m_remote_version;                // the hello's
  std::vector<std::string> m_remote_features;  // the hello's
};

// True when `remote` (the host's switchyard version) works with this one:
// the same major and minor version.
bool compatible_version(std::string_view remote, std::string_view local);

}  // namespace switchyard
