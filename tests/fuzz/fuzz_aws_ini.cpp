// The AWS CLI's shared config file (~/.aws/config; ~/.aws/credentials is
// read by the same INI reader): looking up a profile's region never crashes
// and gives either a region or an error that names where to set one. Only the
// region is resolved: resolving credentials could reach STS, instance metadata
// or start a credential_process, which a fuzzer must not do.
//
// Input: the config file, then "\n%%\n", then the profile name (empty: default).
#include "runner/aws/credentials.hpp"
#include "runner/core/log.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace switchyard;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  log::set_level(log::Level::Error);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = fuzz::fields(data, size, 2);
  auto config = fuzz::write_scratch_file("config", parts[0]);
  auto credentials = fuzz::write_scratch_file("credentials", parts[0]);
  AwsChainOptions options;
  std::string profile = parts[1];
  options.env = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "AWS_CONFIG_FILE") return config.string();
    if (name == "AWS_SHARED_CREDENTIALS_FILE") return credentials.string();
    if (name == "HOME") return fuzz::scratch_directory().string();
    if (name == "AWS_PROFILE" && !profile.empty()) return profile;
    return std::nullopt;
  };
  auto region = resolve_aws_region(options);
  if (region) {
    FUZZ_CHECK(!region->empty(), "an empty region was returned");
  } else {
    FUZZ_CHECK(region.error().code == ExitCode::Usage, region.error().message);
  }
  (void)aws_profile_name(options);
  return 0;
}
