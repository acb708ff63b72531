#include "runner/deploy/presign.hpp"

#include <string>

#include "runner/core/log.hpp"
#include "runner/store/store.hpp"

namespace switchyard {

namespace {

// The signature alone, also a secret: a message that quotes the URL in part
// still hides it.
std::string signature_of(const std::string& url) {
  constexpr std::string_view name = "X-Amz-Signature=";
  auto start = url.find(name);
  if (start == std::string::npos) return "";
  start += name.size();
  return url.substr(start, url.find('&', start) - start);
}

}  // namespace

Result<std::optional<Duration>> presign_lifetime(const Config& config) {
  if (!config.find("deploy.presign")) return std::optional<Duration>();
  auto lifetime = config.duration("deploy.presign");
  if (!lifetime) return lifetime.error();
  return std::optional<Duration>(*lifetime);
}

Result<void> presign_for_hosts(const Config& config, Duration lifetime, FleetRequest& request,
                               RemoteConfig& remote) {
  auto location = parse_location(request.artifact);
  if (!location) return location.error();
  if (location->kind != LocationKind::S3) {
    return usage_error(config.origin("deploy.presign") + ": deploy.presign: " + request.artifact +
                       " is not an s3:// artifact; a local or file:// artifact is sent to the "
                       "hosts over the connection and an http(s):// one is fetched as given, so "
                       "drop --presign");
  }
  StoreOptions options;
  options.endpoint = config.find("artifact.endpoint").value_or("");
  options.region = config.find("artifact.region").value_or("");
  options.profile = config.find("artifact.profile").value_or("");
  auto store = open_store(*location, options);
  if (!store) return store.error();

  // The manifest beside it, for the host's release record (its app_version),
  // and for the sha256 and release left empty.
  auto manifest = (*store)->manifest(*location);
  if (!manifest) return manifest.error();
  if (*manifest && (request.sha256.empty() || request.sha256 == (*manifest)->sha256)) {
    request.sha256 = (*manifest)->sha256;
    if (request.release.empty()) request.release = (*manifest)->version;
    request.manifest = **manifest;
  }
  if (request.sha256.empty()) {
    return usage_error(location->uri +
                       ": no manifest beside it, and a host cannot read one through a presigned "
                       "URL; pass --sha256 (push-artifact prints it)");
  }

  auto url = (*store)->presign(*location, lifetime);
  if (!url) return url.error();
  add_secret(*url);
  add_secret(signature_of(*url));
  remote.artifact_url = *url;
  remote.secrets.push_back(*url);
  log::info("{}: presigned for the hosts, valid {}", location->uri, format_duration(lifetime));
  return {};
}

}  // namespace switchyard
