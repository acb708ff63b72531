// Helpers the fuzz targets share: splitting one input into the fields of a
// parser's call, a scratch directory for parsers that read files, and a check
// that stops the run (a finding) when a property of the parser fails.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::fuzz {

// The input as text, cut into at most `count` fields at each "\n%%\n" (the
// seeds are text files a person can read and edit); missing fields are "".
inline std::vector<std::string> fields(const std::uint8_t* data, std::size_t size,
                                       std::size_t count) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view k_separator = "\n%%\n";
  std::vector<std::string> out;
  while (out.size() + 1 < count) {
    auto at = text.find(k_separator);
    if (at == std::string_view::npos) break;
    out.emplace_back(text.substr(0, at));
    text.remove_prefix(at + k_separator.size());
  }
  out.emplace_back(text);
  out.resize(count);
  return out;
}

// The lines of `text`, without their line breaks.
inline std::vector<std::string> lines(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto end = text.find('\n');
    out.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

// A directory of this process's own under /tmp, removed at exit.
inline const std::filesystem::path& scratch_directory() {
  static const std::filesystem::path directory = [] {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "switchyard-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    std::filesystem::path made = pattern;
    static std::filesystem::path to_remove;
    to_remove = made;
    std::atexit([] {
      std::error_code error;
      std::filesystem::remove_all(to_remove, error);
    });
    return made;
  }();
  return directory;
}

inline std::filesystem::path write_scratch_file(const std::string& name, std::string_view text) {
  auto path = scratch_directory() / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(text.data(), static_cast<std::streamsize>(text.size()));
  return path;
}

}  // namespace switchyard::fuzz

// A property of the parser that must hold for every input: a failure is a
// finding, reported like a crash (libFuzzer saves the input).
#define FUZZ_CHECK(condition, what)                                                             \
  do {                                                                                          \
    if (!(condition)) {                                                                         \
      std::fprintf(stderr, "%s:%d: property failed: %s (%s)\n", __FILE__, __LINE__, #condition, \
                   std::string(what).c_str());                                                  \
      std::abort();                                                                             \
    }                                                                                           \
  } while (false)
