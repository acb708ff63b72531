// The CodeDeploy stand-in (tests/support/codedeploy_standin.py) started on a
// free loopback port with a scripted scenario, beside s3rver, for the
// request-deploy --via codedeploy tests. Header-only; namespace
// codedeploy_harness.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "tests/support/python_standin.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace codedeploy_harness {

namespace fs = std::filesystem;
namespace json = boost::json;

using test_support::k_python;

// Why the stand-in cannot run here, or "" when it can.
inline std::string missing_peer() {
  if (!fs::exists(k_python)) return "/usr/bin/python3 is missing";
  if (std::system("/usr/bin/python3 -c 'import botocore' >/dev/null 2>&1") != 0) {
    return "python3-botocore is not installed (run scripts/setup)";
  }
  return "";
}

// Started with its stdin on a pipe; it exits when the pipe closes.
class CodeDeployStandIn : public test_support::PythonStandIn {
 public:
  CodeDeployStandIn(const fs::path& log, const std::vector<std::string>& flags)
      : PythonStandIn(std::string(SWITCHYARD_SOURCE_DIR) + "/tests/support/codedeploy_standin.py",
                      log, flags) {}

  std::vector<json::object> requests_for(std::string_view operation) const {
    std::vector<json::object> out;
    for (auto& request : requests()) {
      if (request["operation"].is_string() && request["operation"].as_string() == operation) {
        out.push_back(request);
      }
    }
    return out;
  }
};

}  // namespace codedeploy_harness
