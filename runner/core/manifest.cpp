#include "runner/core/manifest.hpp"

#include <boost/json.hpp>

#include <fstream>
#include <sstream>

#include "runner/util/atomic_file.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

bool is_file_name(std::string_view text) {
  return !text.empty() && text != "." && text != ".." && text.find('/') == std::string_view::npos &&
         text.find('\0') == std::string_view::npos;
}

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Reads the fields of one manifest object, remembering the first problem so
// that the message names the origin and the field.
class FieldReader {
 public:
  FieldReader(const json::object& object, std::string_view origin)
      : m_object(object), m_origin(origin) {}

  std::string string(std::string_view key, bool required) {
    const json::value* value = m_object.if_contains(key);
    if (value == nullptr || value->is_null()) {
      if (required) fail(key, "missing");
      return "";
    }
    if (!value->is_string()) {
      fail(key, "must be a string");
      return "";
    }
    return std::string(value->as_string());
  }

  std::uint64_t size(std::string_view key) {
    const json::value* value = m_object.if_contains(key);
    if (value == nullptr || value->is_null()) {
      fail(key, "missing");
      return 0;
    }
    if (value->is_uint64()) return value->as_uint64();
    if (value->is_int64() && value->as_int64() >= 0) {
      return static_cast<std::uint64_t>(value->as_int64());
    }
    fail(key, "must be a non-negative integer (bytes)");
    return 0;
  }

  void check(bool condition, std::string_view key, std::string_view problem) {
    if (!condition) fail(key, problem);
  }

  bool ok() const { return m_problem.empty(); }
  Error error() const { return usage_error(m_problem); }

 private:
  void fail(std::string_view key, std::string_view problem) {
    if (!m_problem.empty()) return;
    m_problem = std::string(m_origin) + ": manifest field \"" + std::string(key) + "\" " +
                std::string(problem) + "; rebuild the artifact with switchyard-build-jar";
  }

  const json::object& m_object;
  std::string_view m_origin;
  std::string m_problem;
};

}  // namespace

bool is_artifact_label(std::string_view text) {
  if (text.empty() || text == "." || text == "..") return false;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::filesystem::path manifest_path_for(const std::filesystem::path& artifact) {
  std::filesystem::path path = artifact;
  path += ".manifest.json";
  return path;
}

std::string manifest_to_json(const Manifest& manifest) {
  // The keys are written in the order DESIGN.md lists them, so a person
  // reading the file sees the same shape every time.
  json::object object;
  object["app"] = manifest.app;
  object["version"] = manifest.version;
  object["app_version"] = manifest.app_version;
  object["git_sha"] = manifest.git_sha;
  object["branch"] = manifest.branch;
  object["built_at"] = manifest.built_at;
  object["file"] = manifest.file;
  object["size"] = manifest.size;
  object["sha256"] = manifest.sha256;
  object["build_tool"] = manifest.build_tool;
  object["java_version"] = manifest.java_version;
  return json::serialize(object) + "\n";
}

Result<Manifest> manifest_from_json(std::string_view text, std::string_view origin) {
  std::error_code parse_error;
  json::value value = json::parse(text, parse_error);
  if (parse_error) {
    return usage_error(std::string(origin) + ": not a JSON manifest (" + parse_error.message() +
                       "); rebuild the artifact with switchyard-build-jar");
  }
  if (!value.is_object()) {
    return usage_error(std::string(origin) +
                       ": a manifest must be a JSON object; rebuild the artifact with "
                       "switchyard-build-jar");
  }

  FieldReader reader(value.as_object(), origin);
  Manifest manifest;
  manifest.app = reader.string("app", true);
  manifest.version = reader.string("version", true);
  manifest.app_version = reader.string("app_version", false);
  manifest.git_sha = reader.string("git_sha", false);
  manifest.branch = reader.string("branch", false);
  manifest.built_at = reader.string("built_at", false);
  manifest.file = reader.string("file", true);
  manifest.size = reader.size("size");
  manifest.sha256 = reader.string("sha256", true);
  manifest.build_tool = reader.string("build_tool", false);
  manifest.java_version = reader.string("java_version", false);
  if (!reader.ok()) return reader.error();

  reader.check(is_artifact_label(manifest.app), "app",
               "must be a name of letters, digits, '.', '_', '-'");
  reader.check(is_artifact_label(manifest.version), "version",
               "must be a label of letters, digits, '.', '_', '-'");
  reader.check(is_file_name(manifest.file), "file", "must be a file name without a directory");
  reader.check(is_sha256_hex(manifest.sha256), "sha256", "must be 64 lower-case hex digits");
  if (!reader.ok()) return reader.error();
  return manifest;
}

Result<void> write_manifest(const Manifest& manifest, const std::filesystem::path& path) {
  return write_file_atomically(path, manifest_to_json(manifest));
}

Result<Manifest> read_manifest(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      return usage_error(path.string() +
                         ": no manifest here; build the artifact with switchyard-build-jar");
    }
    return usage_error(path.string() + ": cannot read the manifest; check its permissions");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return manifest_from_json(text.str(), path.string());
}

}  // namespace switchyard
