#include "runner/util/sha256.hpp"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

#include "runner/util/file_descriptor.hpp"

namespace switchyard {

struct Sha256::State {
  EVP_MD_CTX* context = nullptr;
};

Sha256::Sha256() : m_state(new State) {
  m_state->context = EVP_MD_CTX_new();
  if (m_state->context == nullptr ||
      EVP_DigestInit_ex(m_state->context, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256: OpenSSL could not initialise a digest");
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(m_state->context);
  delete m_state;
}

void Sha256::update(const void* data, std::size_t size) {
  EVP_DigestUpdate(m_state->context, data, size);
}

std::array<std::uint8_t, 32> Sha256::finish() {
  std::array<std::uint8_t, 32> digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(m_state->context, digest.data(), &length);
  return digest;
}

std::string Sha256::finish_hex() {
  auto digest = finish();
  return to_hex(digest.data(), digest.size());
}

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = k_digits[data[i] >> 4];
    out[2 * i + 1] = k_digits[data[i] & 0x0f];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256 hash;
  hash.update(data);
  return hash.finish_hex();
}

Result<std::string> sha256_file(const std::filesystem::path& path) {
  auto fd = open_for_reading(path);
  if (!fd) return fd.error();
  Sha256 hash;
  auto read = read_chunks(*fd, path, [&](std::string_view chunk) -> Result<void> {
    hash.update(chunk);
    return {};
  });
  if (!read) return read.error();
  return hash.finish_hex();
}

}  // namespace switchyard
