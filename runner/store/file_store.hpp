// The file store: plain local paths and file:// URIs. `<root>/<app>/<version>/`
// holds an artifact and its manifest; every write goes through a temp file,
// fsync and rename (util/atomic_file).
#pragma once

#include "runner/store/artifact_store.hpp"

namespace switchyard {

class FileStore final : public ArtifactStore {
 public:
  Result<std::string> put(const std::filesystem::path& file, const Location& to,
                          std::string_view expected_sha256,
                          const ProgressFunction& progress) override;
  Result<std::string> fetch(const Location& from, const std::filesystem::path& destination,
                            std::string_view expected_sha256) override;
  Result<std::optional<Manifest>> manifest(const Location& artifact) override;
  Result<void> put_manifest(const Location& artifact, const Manifest& manifest) override;
  Result<bool> holds(const Location& artifact, const Manifest& manifest) override;
  Result<void> withdraw_manifest(const Location& artifact) override;
};

}  // namespace switchyard
