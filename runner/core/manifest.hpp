// The artifact manifest (DESIGN.md, "The artifact manifest"): written by
// build-jar beside the jar as <jar>.manifest.json, stored beside the
// artifact, and read by every later step.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "runner/util/result.hpp"

namespace switchyard {

struct Manifest {
  std::string app;          // "hello-service"
  std::string version;      // the release label, unique per build: "1.0.0-3f2a9c1"
  std::string app_version;  // what the service reports (Implementation-Version)
  std::string git_sha;
  std::string branch;
  std::string built_at;  // RFC 3339 UTC
  std::string file;      // the artifact's file name, no directory
  std::uint64_t size = 0;
  std::string sha256;      // lower-case hex
  std::string build_tool;  // "maven", "gradle", "command"
  std::string java_version;
};

// True when `text` may be an app name or a version: letters, digits, '.',
// '_' and '-', and neither "." nor "..". Both end up in paths and object
// keys, so nothing that could climb out of a directory is allowed.
bool is_artifact_label(std::string_view text);

// The manifest's path for the artifact at `artifact`: "<artifact>.manifest.json".
std::filesystem::path manifest_path_for(const std::filesystem::path& artifact);

std::string manifest_to_json(const Manifest& manifest);
// Fails (exit 2) naming `origin` and the missing or malformed field.
Result<Manifest> manifest_from_json(std::string_view text, std::string_view origin);

// Writes through util/atomic_file: temp file, fsync, rename.
Result<void> write_manifest(const Manifest& manifest, const std::filesystem::path& path);
Result<Manifest> read_manifest(const std::filesystem::path& path);

}  // namespace switchyard
