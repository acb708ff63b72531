// The artifact manifest (<jar>.manifest.json), read from a store anyone with
// write access to it controls: parsing never crashes, and a manifest that
// parses writes back to JSON that parses to the same manifest.
#include "runner/core/manifest.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto manifest = switchyard::manifest_from_json(text, "fuzz.manifest.json");
  if (!manifest) {
    FUZZ_CHECK(manifest.error().code == switchyard::ExitCode::Usage, manifest.error().message);
    return 0;
  }
  // What a later step puts in paths and object keys cannot climb out.
  FUZZ_CHECK(switchyard::is_artifact_label(manifest->version), manifest->version);
  std::string written = switchyard::manifest_to_json(*manifest);
  auto again = switchyard::manifest_from_json(written, "rewritten");
  FUZZ_CHECK(again.ok(), again ? written : again.error().message);
  FUZZ_CHECK(switchyard::manifest_to_json(*again) == written, written);
  return 0;
}
