// switchyard-verify-health: waits until every URL answers healthy, or gives up
// at a deadline (the health engine in runner/net/health.hpp does the probing).
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <string>
#include <vector>

#include "runner/cli/step.hpp"
#include "runner/core/config.hpp"
#include "runner/net/health.hpp"
#include "runner/util/result.hpp"

namespace switchyard::steps::verify_health {

// The step's flags that are not configuration keys; the others (--timeout,
// --expect-json, ...) set health.* through the configuration's flag layer.
struct Flags {
  std::vector<std::string> urls;     // default: verify.url
  std::string expect_version;        // --expect-version V: changes with every deploy
  std::vector<std::string> headers;  // --header 'Name: value', repeatable (health.headers)
};

// Adds the URL arguments and every verify-health flag to `app`.
void add_flags(CLI::App& app, CommonOptions& common, Flags& flags);

// The --header flags as health.headers entries. One without a header name and
// a colon fails (exit 2) by its position, not quoted: it may hold a secret.
Result<std::map<std::string, std::string>> header_entries(const std::vector<std::string>& headers);

// The HealthCheck from `config` (health.*, verify.url; the flags already in
// its flag layer) and the step's own flags. Anything malformed fails at once
// with exit 2 naming the flag or key: a URL that is not http(s), a bad
// duration, `env:NAME` with NAME unset (read from `environment`), a --cacert
// that is not a file. Header values read through env:NAME, and those of
// credential-like headers, are registered as secrets.
Result<HealthCheck> make_health_check(const Config& config, const Flags& flags,
                                      const std::map<std::string, std::string>& environment);

// The executable: `return switchyard::steps::verify_health::run(argc, argv);`.
int run(int argc, char** argv);

}  // namespace switchyard::steps::verify_health
