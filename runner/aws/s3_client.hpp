// A small S3 REST client: the object calls push-artifact and fetch need
// (PutObject, HeadObject, GetObject and the multipart upload calls), signed
// with SigV4. Path-style addressing when an endpoint is given (S3-compatible
// stores such as s3rver or MinIO), virtual-host style for real AWS.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/net/http.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

inline constexpr std::uint64_t k_mib = std::uint64_t{1024} * 1024;
// Objects up to this size go up in one PUT; bigger ones in parts.
inline constexpr std::uint64_t k_multipart_threshold = 8 * k_mib;
// The smallest part this client uses (S3's own minimum is 5 MiB).
inline constexpr std::uint64_t k_min_part_size = 8 * k_mib;
// S3 allows at most this many parts in one upload.
inline constexpr std::uint64_t k_max_parts = 10000;
// How many parts are sent at once. Parts are streamed from disk, so memory
// does not grow with it (about 1 MiB of buffer per part in flight).
inline constexpr int k_parts_in_flight = 8;

// "s3://bucket/key", how messages name an object.
std::string s3_uri(std::string_view bucket, std::string_view key);

// One part of a multipart upload: bytes [offset, offset + size) of the file.
struct PartRange {
  std::uint32_t number = 0;  // 1-based, as S3 numbers them
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

// How a file of `size` bytes is cut: parts of max(`min_part_size`,
// ceil(size / 10000)) rounded up to a whole MiB, so no upload needs more
// than 10,000 parts; the last part holds the rest.
struct MultipartPlan {
  std::uint64_t size = 0;  // of the whole file
  std::uint64_t part_size = 0;
  std::uint32_t part_count = 0;
  PartRange part(std::uint32_t index) const;  // 0-based index
};
MultipartPlan plan_multipart(std::uint64_t size, std::uint64_t min_part_size = k_min_part_size);

// The part size tests may lower with SWITCHYARD_S3_PART_SIZE (bytes, at least
// 64 KiB) so multipart uploads are exercised with small files; the default
// is k_min_part_size.
std::uint64_t configured_part_size();

// How many parts are sent at once: SWITCHYARD_S3_PARTS_IN_FLIGHT (1 to 64),
// else k_parts_in_flight.
int configured_parts_in_flight();

// base64 of the binary SHA-256 digest, as x-amz-checksum-sha256 carries it.
std::string base64_encode(const std::uint8_t* data, std::size_t size);

struct S3Settings {
  std::string endpoint;  // "http://127.0.0.1:4568": path-style; "" for AWS
  std::string region;    // "" -> AWS_REGION, AWS_DEFAULT_REGION, the profile, us-east-1
  std::string profile;   // "" -> AWS_PROFILE, "default"
  std::string ca_file;
  // The store's key prefix, so a 403 names the resource to grant
  // (arn:aws:s3:::bucket/prefix/*); "" names the object's own folder.
  std::string iam_prefix;
  std::uint64_t part_size = 0;  // 0 -> configured_part_size()
  int parts_in_flight = 0;      // 0 -> configured_parts_in_flight()
  RetryPolicy retry;
};

struct S3ObjectInfo {
  std::uint64_t size = 0;
  std::string etag;
  std::string version_id;  // x-amz-version-id; "" when the bucket is not versioned
};

struct S3UploadResult {
  std::uint64_t size = 0;
  std::string sha256;  // hex, of the whole file, computed while reading
  bool multipart = false;
  std::uint32_t parts = 0;
};

// Called while bytes move: `done` of `total`.
using S3Progress = std::function<void(std::uint64_t done, std::uint64_t total)>;

class S3Client {
 public:
  // Resolves the region and credentials (the standard chain). Fails (exit 3)
  // when no credentials are found, saying where it looked.
  static Result<S3Client> connect(const S3Settings& settings);

  // The URL of `key` in `bucket`, path-style with an endpoint, else
  // virtual-host style (https://bucket.s3.region.amazonaws.com/key).
  std::string object_url(std::string_view bucket, std::string_view key) const;

  // nullopt when there is no such object.
  Result<std::optional<S3ObjectInfo>> head_object(const std::string& bucket,
                                                  const std::string& key);
  // A small object, in memory (manifests). nullopt when there is none.
  Result<std::optional<std::string>> get_small_object(const std::string& bucket,
                                                      const std::string& key);
  // Streams `key` to `sink`; fails when there is no such object.
  Result<void> get_object(const std::string& bucket, const std::string& key,
                          const std::function<bool(std::string_view chunk)>& sink);
  // A small object from memory, with its checksum.
  Result<void> put_small_object(const std::string& bucket, const std::string& key,
                                std::string_view body, std::string_view content_type);
  // Uploads `file`: one PUT up to the part size, multipart above it with
  // parts in flight, each part checksummed; any failure aborts the upload.
  // When `expected_sha256` is given and the file hashes differently, the
  // upload is aborted (exit 1).
  Result<S3UploadResult> upload_file(const std::string& bucket, const std::string& key,
                                     const std::filesystem::path& file,
                                     const std::string& expected_sha256,
                                     const S3Progress& progress = {});
  // A presigned GET URL valid for `lifetime` (at most 7 days).
  Result<std::string> presign_get(const std::string& bucket, const std::string& key,
                                  Duration lifetime) const;

  // The multipart calls upload_file makes.
  Result<std::string> create_multipart_upload(const std::string& bucket, const std::string& key);
  // UploadPart with the part's bytes read from `fd` as they are sent.
  Result<std::string> upload_part_from_file(const std::string& bucket, const std::string& key,
                                            const std::string& upload_id, int fd,
                                            const PartRange& range,
                                            const std::string& sha256_base64,
                                            const std::string& sha256_hex);
  struct CompletedPart {
    std::uint32_t number = 0;
    std::string etag;
    std::string sha256_base64;
  };
  Result<void> complete_multipart_upload(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id,
                                         const std::vector<CompletedPart>& parts);
  Result<void> abort_multipart_upload(const std::string& bucket, const std::string& key,
                                      const std::string& upload_id);

  ~S3Client();
  S3Client(S3Client&&) noexcept;
  S3Client& operator=(S3Client&&) noexcept;

 private:
  struct State;
  explicit S3Client(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
};

}  // namespace switchyard
