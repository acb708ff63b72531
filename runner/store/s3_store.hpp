// The S3 store: s3://bucket/prefix, on AWS or an S3-compatible server
// (--endpoint). Objects are written whole (one PUT, or a multipart upload that
// is completed only once every part arrived), so a reader never sees half of
// one.
#pragma once

#include <memory>

#include "runner/aws/s3_client.hpp"
#include "runner/store/artifact_store.hpp"

namespace switchyard {

class S3Store final : public ArtifactStore {
 public:
  // Resolves the region and credentials (exit 3 when there are none).
  static Result<std::unique_ptr<S3Store>> connect(const StoreOptions& options);

  Result<std::string> put(const std::filesystem::path& file, const Location& to,
                          std::string_view expected_sha256,
                          const ProgressFunction& progress) override;
  Result<std::string> fetch(const Location& from, const std::filesystem::path& destination,
                            std::string_view expected_sha256) override;
  Result<std::optional<Manifest>> manifest(const Location& artifact) override;
  Result<void> put_manifest(const Location& artifact, const Manifest& manifest) override;
  Result<bool> holds(const Location& artifact, const Manifest& manifest) override;
  Result<std::string> presign(const Location& artifact, Duration lifetime) override;

 private:
  explicit S3Store(S3Client client) : m_client(std::move(client)) {}
  S3Client m_client;
};

}  // namespace switchyard
