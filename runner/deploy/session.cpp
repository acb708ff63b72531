#include "runner/deploy/session.hpp"

#include <algorithm>
#include <fstream>

#include "runner/deploy/agent.hpp"
#include "runner/util/interrupt.hpp"

namespace switchyard {
namespace json = boost::json;

namespace {

constexpr auto k_poll = std::chrono::milliseconds(200);

std::string major_minor(std::string_view version) {
  auto first = version.find('.');
  if (first == std::string_view::npos) return std::string(version);
  auto second = version.find('.', first + 1);
  return std::string(version.substr(0, second));
}

}  // namespace

bool compatible_version(std::string_view remote, std::string_view local) {
  return !remote.empty() && major_minor(remote) == major_minor(local);
}

HostSession::HostSession(HostAddress address, HostLogHandler on_log)
    : m_address(std::move(address)), m_on_log(std::move(on_log)) {}

Error HostSession::lost(const std::string& doing) {
  int code = m_channel.wait();
  // The shell's own codes for a program it cannot find (127) or run (126).
  if (!m_started && (code == 127 || code == 126)) {
    return unavailable(m_address.text + ": switchyard is not installed there (" + m_last_log +
                       "); install it, or set deploy.remote_bin to its path");
  }
  std::string why = m_last_log.empty() ? "exit " + std::to_string(code) : m_last_log;
  return unavailable(m_address.text + ": connection lost while " + doing + " (" + why +
                     "); check the host and the network");
}

Result<void> HostSession::start(const ChannelSpec& agent) {
  auto channel = Channel::start(agent);
  if (!channel) return channel.error();
  m_channel = std::move(*channel);
  auto hello = await("hello", false);
  if (!hello) {
    return hello.error();
  }
  m_started = true;
  if (auto it = hello->find("version"); it != hello->end() && it->value().is_string()) {
    m_remote_version = std::string(it->value().as_string());
  }
  if (auto it = hello->find("features"); it != hello->end() && it->value().is_array()) {
    for (const auto& feature : it->value().as_array()) {
      if (feature.is_string()) m_remote_features.emplace_back(feature.as_string());
    }
  }
  auto protocol = hello->find("protocol");
  if (protocol == hello->end() || !protocol->value().is_int64() ||
      protocol->value().as_int64() != k_agent_protocol ||
      !compatible_version(m_remote_version, SWITCHYARD_VERSION)) {
    return unavailable(m_address.text + ": switchyard " + m_remote_version + " there, " +
                       SWITCHYARD_VERSION + " here; install " + SWITCHYARD_VERSION +
                       " on the host");
  }
  return {};
}

Result<void> HostSession::send(const json::object& request) {
  auto written = m_channel.write(json::serialize(request) + "\n");
  if (!written) return lost("sending a request");
  return {};
}

// Reads until the event `wanted` (or an error event) arrives; log lines on
// the way are passed on. While waiting on an interruptible request, a
// Ctrl-C here becomes an "interrupt" request there, once.
Result<json::object> HostSession::await(std::string_view wanted, bool interruptible) {
  bool interrupt_sent = false;
  while (true) {
    while (!m_events.empty()) {
      auto event = std::move(m_events.front());
      m_events.erase(m_events.begin());
      auto name = event.find("event");
      std::string kind = name != event.end() && name->value().is_string()
                             ? std::string(name->value().as_string())
                             : "";
      if (kind == "error") {
        int code = 1;
        std::string message;
        if (auto c = event.find("exit_code"); c != event.end() && c->value().is_int64()) {
          code = static_cast<int>(c->value().as_int64());
        }
        if (auto m = event.find("message"); m != event.end() && m->value().is_string()) {
          message = std::string(m->value().as_string());
        }
        return Error{static_cast<ExitCode>(code), m_address.text + ": " + message};
      }
      if (kind == wanted) return event;
      // Any other event answers nothing we asked: dropped.
    }
    if (interruptible && interrupted() && !interrupt_sent) {
      interrupt_sent = true;
      (void)m_channel.write("{\"op\":\"interrupt\"}\n");
    }
    auto outcome = m_channel.read(k_poll, [&](Stream stream, std::string_view line) {
      if (stream == Stream::Stdout) {
        json::error_code error;
        auto value = json::parse(line, error);
        if (!error && value.is_object()) {
          m_events.push_back(std::move(value.as_object()));
          return;
        }
      }
      if (!line.empty()) m_last_log = std::string(line);
      if (m_on_log) m_on_log(m_address, line);
    });
    if (outcome == Channel::ReadOutcome::Closed && m_events.empty()) {
      return lost(std::string(wanted == "hello" ? "starting switchyard" : "waiting for the host"));
    }
  }
}

Result<void> HostSession::open(const RemoteConfig& config, const std::string& requested_by) {
  if (!config.artifact_url.empty() && std::find(m_remote_features.begin(), m_remote_features.end(),
                                                k_agent_feature_fetch) == m_remote_features.end()) {
    return unavailable(m_address.text + ": switchyard " + m_remote_version +
                       " there predates --presign (its agent cannot fetch a presigned URL); "
                       "install this one (" SWITCHYARD_VERSION ") on the host, or drop --presign");
  }
  json::array secrets;
  for (const auto& secret : config.secrets)
    secrets.emplace_back(secret);
  json::object request{{"op", "open"},
                       {"config", config.document},
                       {"secrets", std::move(secrets)},
                       {"requested_by", requested_by}};
  if (!config.artifact_url.empty()) request["artifact_url"] = config.artifact_url;
  auto sent = send(request);
  if (!sent) return sent;
  auto opened = await("opened", false);
  if (!opened) return opened.error();
  return {};
}

Result<json::object> HostSession::status() {
  if (auto sent = send({{"op", "status"}}); !sent) return sent.error();
  return await("status", false);
}

Result<void> HostSession::lock(Duration timeout, const std::string& action,
                               const std::string& release) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  auto sent = send({{"op", "lock"}, {"timeout_ms", ms}, {"action", action}, {"release", release}});
  if (!sent) return sent;
  auto locked = await("locked", false);
  if (!locked) return locked.error();
  return {};
}

Result<std::string> HostSession::send_artifact(const std::filesystem::path& file) {
  std::error_code error;
  auto size = std::filesystem::file_size(file, error);
  if (error)
    return unavailable(file.string() + ": cannot read the artifact (" + error.message() + ")");
  auto sent = send({{"op", "receive"},
                    {"name", file.filename().string()},
                    {"size", static_cast<std::int64_t>(size)}});
  if (!sent) return sent.error();
  std::ifstream in(file, std::ios::binary);
  std::string buffer(std::size_t{256} * 1024, '\0');
  std::uint64_t left = size;
  while (left > 0) {
    in.read(buffer.data(),
            static_cast<std::streamsize>(std::min<std::uint64_t>(left, buffer.size())));
    auto got = static_cast<std::uint64_t>(in.gcount());
    if (got == 0) return unavailable(file.string() + ": the artifact shrank while being sent");
    if (!m_channel.write(std::string_view(buffer.data(), got))) return lost("sending the artifact");
    left -= got;
  }
  return staged_path("receiving the artifact");
}

Result<std::string> HostSession::fetch_presigned(const std::string& sha256,
                                                 const std::optional<Manifest>& manifest) {
  json::object request{{"op", "fetch"}, {"sha256", sha256}};
  if (manifest) request["manifest"] = manifest_to_json(*manifest);
  if (auto sent = send(request); !sent) return sent.error();
  return staged_path("fetching the artifact");
}

// The "received" event's path: where the artifact now waits on the host.
Result<std::string> HostSession::staged_path(const std::string& doing) {
  auto received = await("received", false);
  if (!received) return received.error();
  auto path = received->find("path");
  if (path == received->end() || !path->value().is_string()) return lost(doing);
  return std::string(path->value().as_string());
}

Result<json::object> HostSession::run(const std::string& step, const std::vector<std::string>& args,
                                      bool interruptible) {
  json::array list;
  for (const auto& arg : args)
    list.emplace_back(arg);
  if (auto sent = send({{"op", "run"}, {"step", step}, {"args", std::move(list)}}); !sent) {
    return sent.error();
  }
  return await("done", interruptible);
}

Result<json::object> HostSession::retire() {
  if (auto sent = send({{"op", "retire"}}); !sent) return sent.error();
  return await("done", false);
}

void HostSession::close() {
  m_channel.close_input();
  // Drain what it still prints, then reap it.
  while (m_channel.read(k_poll, [&](Stream stream, std::string_view line) {
    if (stream == Stream::Stderr && m_on_log) m_on_log(m_address, line);
  }) != Channel::ReadOutcome::Closed) {
  }
  m_channel.wait();
}

}  // namespace switchyard
