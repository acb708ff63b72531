// SHA-256 through OpenSSL, streamed so a file of any size uses a fixed buffer.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "runner/util/result.hpp"

namespace switchyard {

// Incremental SHA-256 (EVP), for callers that hash while they stream.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  std::array<std::uint8_t, 32> finish();
  std::string finish_hex();

 private:
  struct State;
  State* m_state;
};

std::string to_hex(const std::uint8_t* data, std::size_t size);
std::string sha256_hex(std::string_view data);

// Hashes the file at `path` (exit 2 if it cannot be read).
Result<std::string> sha256_file(const std::filesystem::path& path);

}  // namespace switchyard
