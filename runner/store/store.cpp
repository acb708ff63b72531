#include "runner/store/store.hpp"

#include <unistd.h>

#include <cstdlib>

#include "runner/aws/s3_client.hpp"
#include "runner/aws/sigv4.hpp"
#include "runner/core/ci.hpp"
#include "runner/core/log.hpp"
#include "runner/net/http.hpp"
#include "runner/store/file.hpp"
#include "runner/util/sha256.hpp"

namespace switchyard {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

S3Settings s3_settings(const StoreOptions& options) {
  S3Settings settings;
  settings.endpoint = options.endpoint;
  settings.region = options.region;
  settings.profile = options.profile;
  settings.ca_file = options.ca_file;
  if (auto store = parse_s3_uri(options.uri)) settings.iam_prefix = store->prefix;
  return settings;
}

std::string join_key(std::string_view prefix, std::string_view rest) {
  if (prefix.empty()) return std::string(rest);
  return std::string(prefix) + "/" + std::string(rest);
}

// The object key of the artifact: <prefix>/<app>/<version>/<file>.
std::string artifact_key(const S3Uri& store, const Manifest& manifest) {
  return join_key(store.prefix, manifest.app + "/" + manifest.version + "/" + manifest.file);
}

std::string manifest_key_for(const std::string& key) {
  return key + ".manifest.json";
}

Result<PushOutcome> push_to_s3(const PushRequest& request, const StoreOptions& options) {
  auto store = parse_s3_uri(options.uri);
  if (!store) return store.error();
  auto client = S3Client::connect(s3_settings(options));
  if (!client) return client.error();

  Manifest manifest = request.manifest;
  std::string key = artifact_key(*store, manifest);
  std::string manifest_key = manifest_key_for(key);
  PushOutcome outcome;
  outcome.artifact_uri = s3_uri(store->bucket, key);
  outcome.manifest_uri = s3_uri(store->bucket, manifest_key);
  outcome.size = manifest.size;
  outcome.sha256 = manifest.sha256;

  // The manifest is written last, so its presence means an earlier push of
  // this version completed: the same bytes are a no-op, others are refused.
  auto existing = client->get_small_object(store->bucket, manifest_key);
  if (!existing) return existing.error();
  bool upload = true;
  if (*existing) {
    // Comparing needs the hash before the upload.
    if (manifest.sha256.empty()) {
      auto sha256 = sha256_file(request.file);
      if (!sha256) return sha256.error();
      manifest.sha256 = outcome.sha256 = *sha256;
    }
    auto stored = manifest_from_json(**existing, outcome.manifest_uri);
    bool same = false;
    if (stored && stored->sha256 == manifest.sha256 && stored->size == manifest.size) {
      auto object = client->head_object(store->bucket, key);
      if (!object) return object.error();
      same = object->has_value() && (*object)->size == manifest.size;
    }
    if (same) {
      outcome.already_present = true;
      upload = false;
    } else if (!request.force) {
      return different_artifact_stored(outcome.artifact_uri, manifest.version);
    } else {
      log::warn("{}: replacing the artifact stored under version {} (--force)",
                outcome.artifact_uri, manifest.version);
    }
  }

  if (upload) {
    std::string label = "upload " + manifest.file;
    auto uploaded = client->upload_file(
        store->bucket, key, request.file, manifest.sha256,
        [&](std::uint64_t done, std::uint64_t total) { ci().progress(label, done, total); });
    if (!uploaded) return uploaded.error();
    manifest.sha256 = outcome.sha256 = uploaded->sha256;
    auto written = client->put_small_object(store->bucket, manifest_key, manifest_to_json(manifest),
                                            "application/json");
    if (!written) return written.error();
  }

  if (request.presign.count() > 0) {
    auto url = client->presign_get(store->bucket, key, request.presign);
    if (!url) return url.error();
    outcome.presigned_url = *url;
  }
  return outcome;
}

// The last path segment of `uri`, without a query, percent-decoded.
std::string file_name_of(std::string_view uri) {
  std::string_view path = uri.substr(0, uri.find_first_of("?#"));
  return aws_uri_decode(path.substr(path.rfind('/') + 1));
}

Result<void> check_fetch_name(std::string_view uri, const std::string& name) {
  if (name.empty() || name == "." || name == "..") {
    return usage_error(std::string(uri) + ": names no file; give the artifact's full URI");
  }
  // A decoded %2F would let the name climb out of the destination directory.
  if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
    return usage_error(std::string(uri) +
                       ": the file name holds an encoded '/'; give the "
                       "artifact's plain URI");
  }
  return {};
}

// The sha256 the fetched bytes must have: `expected` when given, else the
// manifest's.
std::string wanted_sha256(const std::string& expected, const std::optional<Manifest>& manifest) {
  if (!expected.empty()) return expected;
  return manifest ? manifest->sha256 : "";
}

Result<void> store_manifest_beside(const FetchedArtifact& fetched) {
  if (!fetched.manifest) return {};
  return write_store_file(manifest_path_for(fetched.path), manifest_to_json(*fetched.manifest));
}

// Commits the bytes `writer` received as `fetched.path`, checked against
// the expected sha256 (else the manifest's), and stores the manifest beside
// them; `subject` names the source in a mismatch.
Result<FetchedArtifact> finish_fetch(FetchedArtifact fetched, AtomicFileWriter& writer,
                                     const std::string& expected_sha256, std::string_view subject) {
  auto sha256 = writer.commit(wanted_sha256(expected_sha256, fetched.manifest), subject);
  if (!sha256) return sha256.error();
  fetched.sha256 = *sha256;
  if (auto stored = store_manifest_beside(fetched); !stored) return stored.error();
  return fetched;
}

Result<FetchedArtifact> fetch_local(const std::filesystem::path& source,
                                    const std::filesystem::path& directory,
                                    const std::string& expected_sha256) {
  FetchedArtifact fetched;
  auto source_manifest = manifest_path_for(source);
  std::error_code error;
  if (std::filesystem::exists(source_manifest, error)) {
    auto manifest = read_manifest(source_manifest);
    if (!manifest) return manifest.error();
    fetched.manifest = *manifest;
  }
  fetched.path = directory / source.filename();
  auto sha256 =
      copy_file_atomically(source, fetched.path, wanted_sha256(expected_sha256, fetched.manifest));
  if (!sha256) return sha256.error();
  fetched.sha256 = *sha256;
  if (auto stored = store_manifest_beside(fetched); !stored) return stored.error();
  return fetched;
}

Result<FetchedArtifact> fetch_s3(const std::string& uri, const std::filesystem::path& directory,
                                 const std::string& expected_sha256, const StoreOptions& options) {
  auto location = parse_s3_uri(uri);
  if (!location) return location.error();
  std::string name = file_name_of(location->prefix);
  if (auto checked = check_fetch_name(uri, name); !checked) return checked.error();
  auto client = S3Client::connect(s3_settings(options));
  if (!client) return client.error();

  FetchedArtifact fetched;
  std::string manifest_key = manifest_key_for(location->prefix);
  auto manifest_text = client->get_small_object(location->bucket, manifest_key);
  if (!manifest_text) return manifest_text.error();
  if (*manifest_text) {
    auto manifest = manifest_from_json(**manifest_text, s3_uri(location->bucket, manifest_key));
    if (!manifest) return manifest.error();
    fetched.manifest = *manifest;
  }

  fetched.path = directory / name;
  auto writer = AtomicFileWriter::open(fetched.path);
  if (!writer) return writer.error();
  Result<void> write_status;
  auto got = client->get_object(location->bucket, location->prefix, [&](std::string_view chunk) {
    write_status = writer->write(chunk);
    return write_status.ok();
  });
  if (!write_status) return write_status.error();
  if (!got) return got.error();
  return finish_fetch(std::move(fetched), *writer, expected_sha256, uri);
}

// Where an http(s) URL is shown in a message: without its query, which for a
// presigned URL holds the signature.
std::string url_subject(std::string_view url) {
  return std::string(url.substr(0, url.find('?')));
}

Result<FetchedArtifact> fetch_http(const std::string& url, const std::filesystem::path& directory,
                                   const std::string& expected_sha256,
                                   const StoreOptions& options) {
  std::string subject = url_subject(url);
  std::string name = file_name_of(url);
  if (auto checked = check_fetch_name(subject, name); !checked) return checked.error();

  FetchedArtifact fetched;
  // A plain URL may have its manifest beside it; a presigned one signs only
  // its own key, so there the expected sha256 has to come from the caller.
  if (url.find('?') == std::string::npos) {
    HttpRequest request;
    request.url = url + ".manifest.json";
    request.tls.ca_file = options.ca_file;
    auto outcome = http_send_with_retries(request, RetryPolicy{});
    if (outcome.response && outcome.response->status == 200) {
      auto manifest = manifest_from_json(outcome.response->body, request.url);
      if (!manifest) return manifest.error();
      fetched.manifest = *manifest;
    }
  }

  fetched.path = directory / name;
  auto writer = AtomicFileWriter::open(fetched.path);
  if (!writer) return writer.error();
  Result<void> write_status;
  HttpRequest request;
  request.url = url;
  request.tls.ca_file = options.ca_file;
  request.timeout = std::chrono::hours(1);
  request.body_sink = [&](std::string_view chunk) {
    write_status = writer->write(chunk);
    return write_status.ok();
  };
  // Only the first attempt may have written anything; a retry starts over
  // in a fresh temp file.
  auto outcome = http_send(request);
  if (!write_status) return write_status.error();
  if (!outcome.response) {
    return unavailable(subject + ": " + outcome.failure_text +
                       "; check the URL and that the store is reachable");
  }
  if (outcome.response->status != 200) {
    std::string hint = outcome.response->status == 403
                           ? "; a presigned URL may have expired, push again with --presign"
                           : "; check the URL";
    return failure(subject + ": HTTP " + std::to_string(outcome.response->status) + hint);
  }
  return finish_fetch(std::move(fetched), *writer, expected_sha256, subject);
}

}  // namespace

std::string default_store_uri() {
  if (::geteuid() == 0) return "file:///var/lib/switchyard/artifacts";
  std::filesystem::path base;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && xdg[0] == '/') {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
    base = std::filesystem::path(home) / ".local/share";
  } else {
    base = "/tmp";
  }
  return path_to_file_uri(base / "switchyard/artifacts");
}

Result<PushOutcome> planned_push(const PushRequest& request, const StoreOptions& options) {
  const Manifest& manifest = request.manifest;
  PushOutcome outcome;
  outcome.size = manifest.size;
  outcome.sha256 = manifest.sha256;
  if (starts_with(options.uri, "s3://")) {
    auto store = parse_s3_uri(options.uri);
    if (!store) return store.error();
    std::string key = artifact_key(*store, manifest);
    outcome.artifact_uri = s3_uri(store->bucket, key);
    outcome.manifest_uri = s3_uri(store->bucket, manifest_key_for(key));
    return outcome;
  }
  auto root = file_uri_to_path(options.uri);
  if (!root) return root.error();
  auto artifact = *root / manifest.app / manifest.version / manifest.file;
  outcome.artifact_uri = path_to_file_uri(artifact);
  outcome.manifest_uri = path_to_file_uri(manifest_path_for(artifact));
  return outcome;
}

Result<PushOutcome> push_artifact(const PushRequest& request, const StoreOptions& options) {
  if (starts_with(options.uri, "s3://")) return push_to_s3(request, options);
  if (request.presign.count() > 0) {
    return usage_error(options.uri + ": --presign needs an s3:// store");
  }
  auto root = file_uri_to_path(options.uri);
  if (!root) return root.error();
  std::string label = "store " + request.manifest.file;
  return push_to_file_store(
      *root, request.file, request.manifest, request.force,
      [&](std::uint64_t done, std::uint64_t total) { ci().progress(label, done, total); });
}

Result<FetchedArtifact> fetch_artifact(const std::string& uri,
                                       const std::filesystem::path& directory,
                                       const std::string& expected_sha256,
                                       const StoreOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return unavailable(directory.string() + ": cannot create the directory (" + error.message() +
                       "); check permissions");
  }
  if (starts_with(uri, "s3://")) return fetch_s3(uri, directory, expected_sha256, options);
  if (starts_with(uri, "http://") || starts_with(uri, "https://")) {
    return fetch_http(uri, directory, expected_sha256, options);
  }
  std::filesystem::path source;
  if (starts_with(uri, "file:")) {
    auto path = file_uri_to_path(uri);
    if (!path) return path.error();
    source = *path;
  } else if (uri.find("://") != std::string::npos) {
    return usage_error(uri + ": unknown store; use a path, file://, s3:// or http(s)://");
  } else {
    source = uri;
  }
  if (!std::filesystem::exists(source, error)) {
    return unavailable(source.string() +
                       ": no such artifact; check the URI and that it was pushed");
  }
  return fetch_local(source, directory, expected_sha256);
}

}  // namespace switchyard
