// How request-deploy reaches a host: the OpenSSH client (so ~/.ssh/config,
// agents, ProxyJump and modern key types work), one ControlMaster connection
// per host, host keys pinned against a known_hosts file; or, for --via
// local, this machine itself. Either way what runs there is the host agent
// (`switchyard request-deploy --agent`, agent.hpp), spoken to over stdin and
// stdout.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "runner/deploy/channel.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// [USER@]HOST[:PORT] as written in deploy.hosts or --host; "[::1]:2222" for IPv6.
struct HostAddress {
  std::string text;  // as written: the prefix of its output lines and its table row
  std::string user;  // empty: ssh's default (~/.ssh/config, then the local user)
  std::string host;
  int port = 0;  // 0: ssh's default
};

// Exit 2 naming `text` when it is not an address (empty, starts with '-',
// spaces or shell characters, a port out of range).
Result<HostAddress> parse_host_address(std::string_view text);

struct SshSettings {
  std::filesystem::path identity_file;  // empty: ssh's own (agent, ~/.ssh/config)
  std::filesystem::path known_hosts;    // empty: ssh's own (~/.ssh/known_hosts)
  std::vector<std::string> options;     // extra -o options, e.g. ProxyJump=bastion
  bool accept_new_host_keys = false;    // StrictHostKeyChecking=accept-new
  std::string remote_bin = "switchyard";
  Duration connect_timeout{std::chrono::seconds(10)};
};

// The ssh connections of one rollout: a private directory for the
// ControlMaster sockets (and a key given as env:NAME), removed at the end.
class SshTransport {
 public:
  explicit SshTransport(SshSettings settings);
  ~SshTransport();
  SshTransport(const SshTransport&) = delete;
  SshTransport& operator=(const SshTransport&) = delete;

  // Creates the private directory; writes `identity_key` (a private key's
  // text, from env:NAME) there with mode 0600 when not empty.
  Result<void> prepare(const std::string& identity_key);

  // Opens the master connection to `host`: reachable, authenticated, host
  // key checked. Exit 3 with one line naming the host and the fix (a
  // changed key names its fingerprint).
  Result<void> connect(const HostAddress& host);
  // Closes the master connection (ssh -O exit); harmless when none is open.
  void disconnect(const HostAddress& host);

  // The agent over the master connection: ssh ... HOST 'switchyard'
  // 'request-deploy' '--agent' (every word of the remote line quoted).
  ChannelSpec agent_command(const HostAddress& host) const;

  // The ssh arguments shared by every connection to `host`, up to and
  // including the destination (exposed for tests).
  std::vector<std::string> ssh_arguments(const HostAddress& host) const;

 private:
  SshSettings m_settings;
  std::filesystem::path m_directory;
};

// --via local: the agent as a child of this process.
ChannelSpec local_agent_command();

// Turns what ssh printed on a failed connection into one line naming `host`
// and the fix (exposed for tests).
Error describe_ssh_failure(const HostAddress& host, const std::string& ssh_output,
                           const SshSettings& settings);

}  // namespace switchyard
