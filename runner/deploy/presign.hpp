// request-deploy --presign (deploy.presign): an s3:// artifact handed to the
// hosts as a presigned GET URL, so a host fetches it without AWS
// credentials of its own. While it lives the URL is a credential for the
// artifact: it is registered as a secret (masked in every log, result and
// summary, here and on the hosts), it travels in the resolved configuration
// on the agent's stdin (RemoteConfig::artifact_url), never on a command
// line, and the host fetches it through the http store into its staging
// area, where switch-traffic verifies the sha256 again.
#pragma once

#include <optional>

#include "runner/core/config.hpp"
#include "runner/deploy/remote_config.hpp"
#include "runner/deploy/rollout.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// The lifetime deploy.presign asks for; nullopt when it is not set.
Result<std::optional<Duration>> presign_lifetime(const Config& config);

// Presigns `request.artifact` for `lifetime` with the store settings of
// `config` (artifact.endpoint, region, profile) and puts the URL in
// `remote`. Only an s3:// artifact is presigned; anything else exits 2
// saying what to do. A presigned URL signs only its own key, so a host
// cannot read the manifest beside it: the manifest is read here and fills
// the sha256 and release left empty (exit 2 when there is neither a
// manifest nor --sha256). Exit 3 without credentials to sign with.
Result<void> presign_for_hosts(const Config& config, Duration lifetime, FleetRequest& request,
                               RemoteConfig& remote);

}  // namespace switchyard
