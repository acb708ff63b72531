// What a host needs of switchyard.yml, resolved on the CI side: the chosen
// environment's `app`, `artifact` (endpoint and region; never credentials),
// `health` and `target`, with every `env:NAME` value read from this side's
// environment. It travels to the host on the ssh channel's stdin and reaches
// switch-traffic and rollback as `--config -`, so a host needs no per-app
// configuration file and runs exactly what was resolved here.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runner/core/config.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

struct RemoteConfig {
  std::string document;              // JSON, the shape of switchyard.yml
  std::vector<std::string> secrets;  // the resolved env:NAME values (also add_secret'ed)
  // --presign: the presigned URL a host fetches the artifact from (a
  // secret, also in `secrets`); empty otherwise (deploy/presign.hpp).
  std::string artifact_url;
};

// Resolves `config` for the hosts. An env:NAME whose variable is not set
// fails (exit 2) naming the key.
Result<RemoteConfig> resolve_remote_config(const Config& config,
                                           const std::map<std::string, std::string>& environment);

}  // namespace switchyard
