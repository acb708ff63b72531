// The http(s) store: a plain URL or a presigned one (push-artifact
// --presign), read-only. A plain URL may have its manifest beside it; a
// presigned one signs only its own key, so there the expected sha256 has to
// come from the caller.
#pragma once

#include "runner/store/artifact_store.hpp"

namespace switchyard {

class HttpStore final : public ArtifactStore {
 public:
  explicit HttpStore(std::string ca_file) : m_ca_file(std::move(ca_file)) {}

  Result<std::string> put(const std::filesystem::path& file, const Location& to,
                          std::string_view expected_sha256,
                          const ProgressFunction& progress) override;
  Result<std::string> fetch(const Location& from, const std::filesystem::path& destination,
                            std::string_view expected_sha256) override;
  Result<std::optional<Manifest>> manifest(const Location& artifact) override;
  Result<void> put_manifest(const Location& artifact, const Manifest& manifest) override;
  Result<bool> holds(const Location& artifact, const Manifest& manifest) override;

 private:
  std::string m_ca_file;
};

}  // namespace switchyard
