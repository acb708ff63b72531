// Replacing a file so that a reader, or a crash at any instant, sees either the
// whole old content or the whole new content, never a mix (DESIGN.md, "Host
// state": state.json, the nginx include, the live-port file).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string_view>

#include "runner/util/result.hpp"

namespace switchyard {

// Writes `content` to `path` atomically: a temp file in the same directory is
// written, fsynced and renamed over `path`, then the directory is fsynced so
// the rename itself survives a power loss. The new file gets `mode` when given,
// else the mode of the file it replaces, else 0644. On failure the temp file is
// removed, `path` is left as it was, and the error (exit 1) names `path`.
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content,
                                   std::optional<mode_t> mode = std::nullopt);

}  // namespace switchyard
