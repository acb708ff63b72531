// switchyard-verify-health: waits until every URL answers healthy, or gives up
// at a deadline (the health engine in runner/health.hpp does the probing).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/net/health.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// The step's own flags as given; an empty string or none means "not given",
// so switchyard.yml and the built-in defaults can fill it in.
struct VerifyHealthOptions {
  std::vector<std::string> urls;
  std::string expect_status;             // --expect-status CODE
  std::vector<std::string> expect_json;  // --expect-json PATH=VALUE, repeatable
  std::string expect_version;            // --expect-version V
  std::vector<std::string> headers;      // --header 'Name: value' (value may be env:NAME)
  std::string timeout;                   // --timeout DUR (default 60s)
  std::string request_timeout;           // --request-timeout DUR (default 2s)
  std::string interval;                  // --interval DUR (default 100ms)
  std::string successes;                 // --successes N (default 1)
  std::string cacert;                    // --cacert FILE
  bool insecure = false;                 // --insecure
};

// Settings the flags did not give, by key ("verify.url", "health.timeout"),
// after the configuration's precedence (switchyard.yml, its environment
// section, SWITCHYARD_* variables). `origin` says where a key was set, for
// messages ("switchyard.yml:12"). Empty functions mean "no configuration".
struct SettingSource {
  std::function<std::optional<std::string>(std::string_view key)> find;
  std::function<std::vector<std::string>(std::string_view key)> list;
  std::function<std::map<std::string, std::string>(std::string_view key)> map;
  std::function<std::string(std::string_view key)> origin;
};

// Turns the flags (then `settings`, then the defaults) into a HealthCheck.
// Anything malformed fails at once with exit 2 and a message naming the flag
// or key: a URL that is not http(s), a bad duration, a header without a
// colon, `env:NAME` with NAME unset (read from `environment`). Header values
// read through env:NAME are registered as secrets.
Result<HealthCheck> make_health_check(const VerifyHealthOptions& options,
                                      const std::map<std::string, std::string>& environment,
                                      const SettingSource& settings = {});

// The executable: `return switchyard::verify_health_main(argc, argv);`.
int verify_health_main(int argc, char** argv);

}  // namespace switchyard
