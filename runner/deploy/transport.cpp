#include "runner/deploy/transport.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "runner/deploy/shell_quote.hpp"
#include "runner/util/atomic_file.hpp"
#include "runner/util/process.hpp"

namespace switchyard {
namespace fs = std::filesystem;

namespace {

bool is_address_character(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
         c == ':' || c == '%';
}

std::string line_after(const std::string& text, std::string_view marker) {
  auto at = text.find(marker);
  if (at == std::string::npos) return "";
  auto start = text.find('\n', at);
  if (start == std::string::npos) return "";
  auto end = text.find('\n', start + 1);
  std::string line = text.substr(start + 1, end == std::string::npos ? end : end - start - 1);
  while (!line.empty() && (line.back() == '.' || line.back() == '\r' || line.back() == ' ')) {
    line.pop_back();
  }
  return line;
}

}  // namespace

Result<HostAddress> parse_host_address(std::string_view text) {
  HostAddress address;
  address.text = std::string(text);
  auto bad = [&](const std::string& why) {
    return usage_error("--host " + std::string(text) + ": " + why +
                       "; write it as [USER@]HOST[:PORT], e.g. deploy@web1:2222");
  };
  if (text.empty()) return bad("empty");
  std::string_view rest = text;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    address.user = std::string(rest.substr(0, at));
    rest = rest.substr(at + 1);
    if (address.user.empty()) return bad("the user is empty");
    for (char c : address.user) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
        return bad("the user has characters a login name cannot have");
      }
    }
  }
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("an IPv6 address needs its closing ]");
    address.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("expected :PORT after ]");
      port_text = rest.substr(1);
    }
  } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
    address.host = std::string(rest.substr(0, colon));
    port_text = rest.substr(colon + 1);
  } else {
    address.host = std::string(rest);
  }
  if (address.host.empty()) return bad("the host is empty");
  // ssh would take a leading '-' as an option.
  if (address.host.front() == '-' || address.user.starts_with("-")) {
    return bad("a host cannot start with '-'");
  }
  for (char c : address.host) {
    if (!is_address_character(c)) return bad("the host has characters a host name cannot have");
  }
  if (!port_text.empty() || rest.ends_with(":")) {
    int port = 0;
    auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      return bad("the port is not 1-65535");
    }
    address.port = port;
  }
  return address;
}

SshTransport::SshTransport(SshSettings settings) : m_settings(std::move(settings)) {}

SshTransport::~SshTransport() {
  if (m_directory.empty()) return;
  std::error_code error;
  fs::remove_all(m_directory, error);
}

Result<void> SshTransport::prepare(const std::string& identity_key) {
  // Short, under /tmp: a ControlPath must fit a unix socket's 108 bytes.
  std::string pattern = "/tmp/switchyard-ssh-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return unavailable("/tmp: cannot create a private directory for ssh (" +
                       std::string(std::strerror(errno)) + "); check /tmp");
  }
  m_directory = pattern;
  if (!identity_key.empty()) {
    auto key_file = m_directory / "identity";
    int fd = ::open(key_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return unavailable(key_file.string() + ": cannot write the ssh key");
    std::string text = identity_key;
    if (text.back() != '\n') text += '\n';  // OpenSSH refuses a key without its last newline
    bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!written) return unavailable(key_file.string() + ": cannot write the ssh key");
    m_settings.identity_file = key_file;
  }
  return {};
}

std::vector<std::string> SshTransport::ssh_arguments(const HostAddress& host) const {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(m_settings.connect_timeout);
  std::vector<std::string> args = {
      "ssh",
      "-o",
      "BatchMode=yes",  // never a password prompt in CI
      "-o",
      std::string("StrictHostKeyChecking=") +
          (m_settings.accept_new_host_keys ? "accept-new" : "yes"),
      "-o",
      "ConnectTimeout=" + std::to_string(std::max<long long>(1, seconds.count())),
      "-o",
      "ServerAliveInterval=15",
      "-o",
      "ControlPath=" + (m_directory / "%C").string(),
  };
  if (!m_settings.known_hosts.empty()) {
    args.insert(args.end(), {"-o", "UserKnownHostsFile=" + m_settings.known_hosts.string()});
  }
  if (!m_settings.identity_file.empty()) {
    args.insert(args.end(), {"-o", "IdentitiesOnly=yes", "-i", m_settings.identity_file.string()});
  }
  for (const auto& option : m_settings.options)
    args.insert(args.end(), {"-o", option});
  if (!host.user.empty()) args.insert(args.end(), {"-l", host.user});
  if (host.port != 0) args.insert(args.end(), {"-p", std::to_string(host.port)});
  args.push_back(host.host);
  return args;
}

Result<void> SshTransport::connect(const HostAddress& host) {
  ProcessSpec spec;
  spec.argv = ssh_arguments(host);
  // -f: go to the background once authenticated; -N: no command. The master
  // lives until disconnect() (or a minute after the last session, if this
  // process died without closing it).
  spec.argv.insert(spec.argv.end() - 1,
                   {"-o", "ControlMaster=yes", "-o", "ControlPersist=60", "-f", "-N"});
  spec.timeout = m_settings.connect_timeout + std::chrono::seconds(5);
  std::string output;
  auto outcome =
      run_process(spec, [&](Stream, std::string_view line) { output += std::string(line) + "\n"; });
  if (!outcome) return outcome.error();
  if (outcome->succeeded()) return {};
  if (outcome->timed_out) output += "Connection timed out\n";
  return describe_ssh_failure(host, output, m_settings);
}

void SshTransport::disconnect(const HostAddress& host) {
  ProcessSpec spec;
  spec.argv = ssh_arguments(host);
  spec.argv.insert(spec.argv.end() - 1, {"-O", "exit"});
  spec.timeout = std::chrono::seconds(10);
  (void)run_process(spec);
}

ChannelSpec SshTransport::agent_command(const HostAddress& host) const {
  ChannelSpec spec;
  spec.argv = ssh_arguments(host);
  // Only over the master connection: never a second handshake.
  spec.argv.insert(spec.argv.end() - 1, {"-o", "ControlMaster=no", "-T"});
  // The one line the remote shell reads; every word quoted.
  spec.argv.push_back(shell_command({m_settings.remote_bin, "request-deploy", "--agent"}));
  return spec;
}

ChannelSpec local_agent_command() {
  ChannelSpec spec;
  std::error_code error;
  auto self = fs::read_symlink("/proc/self/exe", error);
  spec.argv = {error ? std::string("switchyard-request-deploy") : self.string(), "--agent"};
  // The steps under it are the host's, as over ssh: this step alone speaks
  // to the CI (outputs, summary, groups); who asked travels in the request.
  spec.unset_environment = {"GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY",
                            "SWITCHYARD_OUTPUT_FILE", "JENKINS_URL"};
  return spec;
}

Error describe_ssh_failure(const HostAddress& host, const std::string& ssh_output,
                           const SshSettings& settings) {
  std::string known_hosts =
      settings.known_hosts.empty() ? "~/.ssh/known_hosts" : settings.known_hosts.string();
  const std::string& out = ssh_output;
  if (out.find("REMOTE HOST IDENTIFICATION HAS CHANGED") != std::string::npos) {
    std::string fingerprint = line_after(out, "sent by the remote host is");
    return unavailable(host.text + ": host key changed (now " +
                       (fingerprint.empty() ? std::string("unknown") : fingerprint) +
                       "); refused. If the host was rebuilt, check that fingerprint and replace "
                       "its line in " +
                       known_hosts);
  }
  if (out.find("Host key verification failed") != std::string::npos ||
      out.find("host key is known") != std::string::npos) {
    return unavailable(host.text + ": host key not in " + known_hosts +
                       "; add it after checking its fingerprint (ssh-keyscan), or pass "
                       "--accept-new-host-keys once");
  }
  if (out.find("Permission denied") != std::string::npos) {
    return unavailable(host.text +
                       ": authentication refused; check deploy.ssh.identity_file (or the ssh "
                       "agent) and the host's authorized_keys");
  }
  std::string last;
  for (std::size_t start = 0; start < out.size();) {
    auto end = out.find('\n', start);
    std::string line = out.substr(start, end == std::string::npos ? end : end - start);
    if (!line.empty() && line.find("Warning: Permanently added") == std::string::npos) last = line;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return unavailable(host.text + ": unreachable (" + (last.empty() ? "ssh failed" : last) +
                     "); check the address, the network and that sshd runs there");
}

}  // namespace switchyard
