// AWS Signature Version 4 (HMAC-SHA256 through OpenSSL): the Authorization
// header variant and the presigned-URL (query) variant. The intermediate
// strings are exposed so tests compare them byte for byte with AWS's suite
// and with botocore.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runner/net/http.hpp"
#include "runner/util/result.hpp"
#include "runner/util/time.hpp"

namespace switchyard {

// What signs a request; aws/credentials.hpp finds them.
struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;             // empty for long-term keys
  std::optional<SystemTime> expiration;  // set for temporary credentials
  // Where they came from, for logs: "environment", "web identity (role ARN)",
  // "profile 'ci' in /home/u/.aws/credentials", "EC2 instance metadata (role R)".
  std::string source;
};

inline constexpr std::string_view k_unsigned_payload = "UNSIGNED-PAYLOAD";
// Presigned URLs live at most 7 days (SigV4's limit).
inline constexpr std::chrono::seconds k_max_presign_expiry{7 * 24 * 3600};

// What is signed. `path` is the path exactly as it goes on the request line,
// already percent-encoded (for S3: "/bucket/" + aws_uri_encode(key, false)).
// `query` holds decoded names and values; the signer encodes them, so the
// query string sent must be the one the signer returns (or encode the same way).
struct SigV4Request {
  std::string method = "GET";
  std::string host;  // "bucket.s3.eu-west-1.amazonaws.com", "127.0.0.1:9000"
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> query;
  // Headers to sign besides host and the X-Amz-* ones the signer adds. Names
  // in any case; a repeated name is signed as one header, values joined by ','
  // in order. A "Host" header here wins over `host`.
  HttpHeaders headers;
  // Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD". Empty: hash `payload`.
  std::string payload_hash;
  std::string payload;
};

struct SigV4Options {
  std::string region;
  std::string service;
  // The signing time; unset means now. Tests fix it.
  std::optional<SystemTime> time;
  // Remove "." and ".." segments and duplicate slashes before signing. True for
  // every service but S3.
  bool normalize_path = true;
  // URI-encode the (already encoded) path once more for the canonical request.
  // True for every service but S3.
  bool double_encode_path = true;
  // Add and sign `x-amz-content-sha256: <payload hash>` (S3 requires it).
  bool sign_content_sha256_header = false;
  // Add the session token after signing instead of signing it (a few services
  // want that; S3 and STS sign it).
  bool omit_session_token = false;

  // S3's rules (botocore's S3SigV4Auth): no normalisation, no double
  // encoding, x-amz-content-sha256 signed.
  static SigV4Options s3(std::string region);
  // Every other service (codedeploy, sts, ...).
  static SigV4Options for_service(std::string service, std::string region);
};

struct SigV4Result {
  std::string amz_date;          // "20150830T123600Z"
  std::string credential_scope;  // "20150830/us-east-1/service/aws4_request"
  std::string signed_headers;    // "host;x-amz-date"
  std::string payload_hash;      // what the canonical request's last line is
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // hex
  // Header variant: the full Authorization value. Query variant: empty.
  std::string authorization;
  // Headers to add to the request, in this order: X-Amz-Date,
  // [X-Amz-Security-Token], [x-amz-content-sha256], Authorization. For the
  // query variant: none.
  HttpHeaders headers_to_add;
  // The encoded query string to send (no '?'): the request's parameters, and
  // for the query variant the X-Amz-* ones with X-Amz-Signature last.
  std::string query_string;
};

// Signs `request` into an Authorization header.
SigV4Result sign_sigv4(const SigV4Request& request, const AwsCredentials& credentials,
                       const SigV4Options& options);

// Signs `request` into query parameters (a presigned URL) valid for `expires`
// (1 s to 7 days, else exit 2). The payload hash defaults to UNSIGNED-PAYLOAD
// for S3 (sign_content_sha256_header) and to the hash of `payload` otherwise.
Result<SigV4Result> presign_sigv4(const SigV4Request& request, const AwsCredentials& credentials,
                                  const SigV4Options& options, std::chrono::seconds expires);

// Signs an HttpRequest in place: host, path and query come from its URL
// (query values in the URL are percent-decoded and encoded again for the
// canonical form), the headers are added to it. `payload_hash` empty means
// the SHA-256 of request.body (a body_source needs an explicit hash or
// "UNSIGNED-PAYLOAD"). Returns the signing's intermediate strings (for debug
// logs and tests). Exit 2 for a URL it cannot read.
Result<SigV4Result> sign_http_request(HttpRequest& request, const AwsCredentials& credentials,
                                      const SigV4Options& options,
                                      std::string_view payload_hash = {});

// A presigned URL for `method` (usually GET) on `url` (scheme://host[:port]/path
// [?query], path already encoded), valid for `expires` (at most 7 days).
Result<std::string> presign_url(std::string_view method, std::string_view url,
                                const AwsCredentials& credentials, const SigV4Options& options,
                                std::chrono::seconds expires);

// SigV4's URI encoding: every byte but A-Za-z0-9-._~ as %XX (upper-case hex);
// '/' kept unless `encode_slash`.
std::string aws_uri_encode(std::string_view text, bool encode_slash);

// Decodes %XX sequences (a malformed one is kept as it is); '+' stays '+'.
std::string aws_uri_decode(std::string_view text);

// Removes "." and ".." segments and duplicate slashes from a URI path; keeps a
// trailing slash ("/a/./b/" -> "/a/b/", "//" -> "/").
std::string normalize_uri_path(std::string_view path);

// "20150830T123600Z" for `time` (UTC).
std::string aws_amz_date(SystemTime time);

// Parses ISO 8601 UTC ("2015-08-30T12:36:00Z", fractional seconds allowed), as
// STS and instance metadata write expiry times.
std::optional<SystemTime> parse_iso8601_utc(std::string_view text);

// HMAC-SHA256 of `data` under `key` (raw bytes); exposed for tests.
std::string hmac_sha256(std::string_view key, std::string_view data);

}  // namespace switchyard
