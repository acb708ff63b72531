// The set-up the credential chain's unit and integration tests share: a
// temporary HOME and an environment of the test's own, so nothing on the
// machine running the tests (its ~/.aws, its AWS_* variables) leaks in.
//
// Everything lives in `aws_testing` so it cannot clash with another area's
// helpers in the same test binary.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "runner/aws/credentials.hpp"

namespace switchyard::aws_testing {

class AwsChainFixture : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "aws-chain-XXXXXX").string();
    m_home = mkdtemp(pattern.data());
    m_env["HOME"] = m_home.string();
    // Instance metadata: nothing listens on port 9 of loopback, so the chain
    // finds no metadata service at once instead of waiting on 169.254.169.254.
    m_env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:9";
  }
  void TearDown() override {
    std::error_code ec;
    if (!m_home.empty()) std::filesystem::remove_all(m_home, ec);
  }

  // Chain options that read `m_env` instead of the process environment.
  AwsChainOptions options(std::string profile = "") {
    AwsChainOptions o;
    o.profile = std::move(profile);
    o.env = [this](const std::string& name) -> std::optional<std::string> {
      auto it = m_env.find(name);
      if (it == m_env.end() || it->second.empty()) return std::nullopt;
      return it->second;
    };
    return o;
  }

  // Resolves the chain with `options` and expects it to fail with `code` and
  // exactly `message`.
  static void expect_chain_failure(const AwsChainOptions& options, ExitCode code,
                                   const std::string& message) {
    auto credentials = resolve_aws_credentials(options);
    ASSERT_FALSE(credentials.ok());
    EXPECT_EQ(credentials.error().code, code);
    EXPECT_EQ(credentials.error().message, message);
  }

  // Writes `text` to `relative` under the temporary HOME.
  void write(const std::filesystem::path& relative, const std::string& text) {
    std::filesystem::path path = m_home / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }

  std::filesystem::path m_home;
  std::map<std::string, std::string> m_env;
};

}  // namespace switchyard::aws_testing
