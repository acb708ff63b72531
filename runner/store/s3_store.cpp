#include "runner/store/s3_store.hpp"

namespace switchyard {

Result<std::unique_ptr<S3Store>> S3Store::connect(const StoreOptions& options) {
  S3Settings settings;
  settings.endpoint = options.endpoint;
  settings.region = options.region;
  settings.profile = options.profile;
  settings.ca_file = options.ca_file;
  // The store's own prefix, so an access-denied message names what to grant.
  if (auto root = parse_location(options.uri); root && root->kind == LocationKind::S3) {
    settings.iam_prefix = root->key;
  }
  auto client = S3Client::connect(settings);
  if (!client) return client.error();
  return std::unique_ptr<S3Store>(new S3Store(std::move(*client)));
}

Result<std::string> S3Store::put(const std::filesystem::path& file, const Location& to,
                                 std::string_view expected_sha256,
                                 const ProgressFunction& progress) {
  auto uploaded =
      m_client.upload_file(to.bucket, to.key, file, std::string(expected_sha256), progress);
  if (!uploaded) return uploaded.error();
  return uploaded->sha256;
}

Result<std::string> S3Store::fetch(const Location& from, const std::filesystem::path& destination,
                                   std::string_view expected_sha256) {
  auto writer = AtomicFileWriter::open(destination);
  if (!writer) return writer.error();
  Result<void> write_status;
  auto got = m_client.get_object(from.bucket, from.key, [&](std::string_view chunk) {
    write_status = writer->write(chunk);
    return write_status.ok();
  });
  if (!write_status) return write_status.error();
  if (!got) return got.error();
  return writer->commit(expected_sha256, from.subject());
}

Result<std::optional<Manifest>> S3Store::manifest(const Location& artifact) {
  Location beside = artifact.manifest_beside();
  auto text = m_client.get_small_object(beside.bucket, beside.key);
  if (!text) return text.error();
  if (!*text) return std::optional<Manifest>();
  auto manifest = manifest_from_json(**text, beside.uri);
  if (!manifest) return manifest.error();
  return std::optional<Manifest>(*manifest);
}

Result<void> S3Store::put_manifest(const Location& artifact, const Manifest& manifest) {
  Location beside = artifact.manifest_beside();
  return m_client.put_small_object(beside.bucket, beside.key, manifest_to_json(manifest),
                                   "application/json");
}

Result<bool> S3Store::holds(const Location& artifact, const Manifest& manifest) {
  // The manifest's sha256 was checked while the object went up, so an
  // object of the manifest's size under its key is the one it describes.
  auto object = m_client.head_object(artifact.bucket, artifact.key);
  if (!object) return object.error();
  return object->has_value() && (*object)->size == manifest.size;
}

Result<std::string> S3Store::presign(const Location& artifact, Duration lifetime) {
  return m_client.presign_get(artifact.bucket, artifact.key, lifetime);
}

}  // namespace switchyard
