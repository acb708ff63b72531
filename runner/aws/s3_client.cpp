#include "runner/aws/s3_client.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "runner/aws/credentials.hpp"
#include "runner/aws/sigv4.hpp"
#include "runner/core/log.hpp"
#include "runner/util/file_descriptor.hpp"
#include "runner/util/interrupt.hpp"
#include "runner/util/sha256.hpp"
#include "runner/util/sha256_twin.hpp"
#include "runner/util/xml.hpp"

namespace switchyard {
namespace {

constexpr std::string_view k_s3_namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

// Reads exactly `size` bytes at `offset`, or fails naming `path`.
Result<void> read_range(int fd, char* buffer, std::uint64_t offset, std::uint64_t size,
                        const std::filesystem::path& path) {
  while (size > 0) {
    ssize_t n = ::pread(fd, buffer, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure(path.string() + ": read failed (" + errno_text() + ")");
    }
    if (n == 0) {
      return failure(path.string() + ": the file shrank while it was being uploaded; " +
                     "push a file nobody is writing");
    }
    buffer += n;
    offset += static_cast<std::uint64_t>(n);
    size -= static_cast<std::uint64_t>(n);
  }
  return {};
}

// A request body that can be replayed for a retry: bytes in memory, or a
// byte range of a file read with pread as curl asks for it (so a part is
// streamed from disk and never held in memory whole).
struct ReplayableBody {
  std::string_view data;  // when fd < 0
  int fd = -1;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::uint64_t position = 0;

  static ReplayableBody memory(std::string_view bytes) {
    ReplayableBody body;
    body.data = bytes;
    body.size = bytes.size();
    return body;
  }
  static ReplayableBody file_range(int fd, std::uint64_t offset, std::uint64_t size) {
    ReplayableBody body;
    body.fd = fd;
    body.offset = offset;
    body.size = size;
    return body;
  }
  std::size_t read(char* buffer, std::size_t capacity) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(capacity, size - position));
    if (n == 0) return 0;
    if (fd < 0) {
      std::memcpy(buffer, data.data() + position, n);
    } else {
      ssize_t got;
      do {
        got = ::pread(fd, buffer, n, static_cast<off_t>(offset + position));
      } while (got < 0 && errno == EINTR);
      // A read error ends the body early; curl reports it as a failed
      // transfer, which is retried and then fails the upload.
      if (got <= 0) return 0;
      n = static_cast<std::size_t>(got);
    }
    position += n;
    return n;
  }
};

// Splits "http://host:port/base" into its origin and path.
struct Endpoint {
  std::string origin;  // "http://127.0.0.1:4568"
  std::string path;    // "" or "/base"
};

Endpoint parse_endpoint(std::string_view url) {
  Endpoint endpoint;
  auto scheme_end = url.find("://");
  auto path_start = url.find('/', scheme_end == std::string_view::npos ? 0 : scheme_end + 3);
  if (path_start == std::string_view::npos) {
    endpoint.origin = std::string(url);
  } else {
    endpoint.origin = std::string(url.substr(0, path_start));
    endpoint.path = std::string(url.substr(path_start));
    while (!endpoint.path.empty() && endpoint.path.back() == '/')
      endpoint.path.pop_back();
  }
  return endpoint;
}

// What an S3 call needs to say what went wrong: the operation, the object,
// and what permission the caller would need.
struct CallContext {
  std::string subject;  // "s3://bucket/key"
  std::string bucket;
  std::string key;
  std::string permission;  // "s3:PutObject"
};

}  // namespace

std::string s3_uri(std::string_view bucket, std::string_view key) {
  return "s3://" + std::string(bucket) + "/" + std::string(key);
}

PartRange MultipartPlan::part(std::uint32_t index) const {
  PartRange range;
  range.number = index + 1;
  range.offset = static_cast<std::uint64_t>(index) * part_size;
  range.size = std::min(part_size, size - range.offset);
  return range;
}

MultipartPlan plan_multipart(std::uint64_t size, std::uint64_t min_part_size) {
  MultipartPlan plan;
  plan.size = size;
  std::uint64_t needed = (size + k_max_parts - 1) / k_max_parts;
  // Whole MiBs keep the part size readable in logs; only sizes above
  // 10,000 x min_part_size (80 GiB by default) are affected.
  needed = (needed + k_mib - 1) / k_mib * k_mib;
  plan.part_size = std::max(min_part_size, needed);
  plan.part_count =
      size == 0 ? 1 : static_cast<std::uint32_t>((size + plan.part_size - 1) / plan.part_size);
  return plan;
}

std::uint64_t configured_part_size() {
  const char* text = std::getenv("SWITCHYARD_S3_PART_SIZE");
  if (text == nullptr || *text == '\0') return k_min_part_size;
  char* end = nullptr;
  unsigned long long value = std::strtoull(text, &end, 10);
  if (end == nullptr || *end != '\0' || value < 64ULL * 1024) {
    log::warn("SWITCHYARD_S3_PART_SIZE={}: not a byte count of at least 65536; using {}", text,
              k_min_part_size);
    return k_min_part_size;
  }
  return value;
}

int configured_parts_in_flight() {
  const char* text = std::getenv("SWITCHYARD_S3_PARTS_IN_FLIGHT");
  if (text == nullptr || *text == '\0') return k_parts_in_flight;
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (end == nullptr || *end != '\0' || value < 1 || value > 64) {
    log::warn("SWITCHYARD_S3_PARTS_IN_FLIGHT={}: not a number from 1 to 64; using {}", text,
              k_parts_in_flight);
    return k_parts_in_flight;
  }
  return static_cast<int>(value);
}

std::string base64_encode(const std::uint8_t* data, std::size_t size) {
  static constexpr char k_alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (std::size_t i = 0; i < size; i += 3) {
    std::uint32_t chunk = static_cast<std::uint32_t>(data[i]) << 16;
    if (i + 1 < size) chunk |= static_cast<std::uint32_t>(data[i + 1]) << 8;
    if (i + 2 < size) chunk |= data[i + 2];
    out.push_back(k_alphabet[(chunk >> 18) & 63]);
    out.push_back(k_alphabet[(chunk >> 12) & 63]);
    out.push_back(i + 1 < size ? k_alphabet[(chunk >> 6) & 63] : '=');
    out.push_back(i + 2 < size ? k_alphabet[chunk & 63] : '=');
  }
  return out;
}

struct S3Client::State {
  S3Settings settings;
  std::string region;
  Endpoint endpoint;
  std::unique_ptr<AwsCredentialProvider> credentials;
  std::string credential_source;

  // Sends one signed call with retries (every S3 call the client makes is
  // idempotent: a replayed PUT of the same bytes, GET, HEAD, or the
  // multipart calls). `body` is sent without copying it first.
  Result<HttpResponse> call(const CallContext& context, std::string method, std::string url,
                            HttpHeaders headers, std::string_view body, std::string payload_hash,
                            const std::function<bool(std::string_view)>& sink = {}) {
    if (payload_hash.empty()) payload_hash = sha256_hex(body);
    return call(context, std::move(method), std::move(url), std::move(headers),
                ReplayableBody::memory(body), std::move(payload_hash), sink);
  }

  Result<HttpResponse> call(const CallContext& context, std::string method, std::string url,
                            HttpHeaders headers, ReplayableBody body,
                            const std::string& payload_hash,
                            const std::function<bool(std::string_view)>& sink = {}) {
    auto credential = credentials->get();
    if (!credential) return credential.error();
    HttpRequest request;
    request.method = std::move(method);
    request.url = std::move(url);
    request.headers = std::move(headers);
    request.tls.ca_file = settings.ca_file;
    request.timeout = std::chrono::minutes(5);
    request.connect_timeout = std::chrono::seconds(5);
    auto source = std::make_shared<ReplayableBody>(body);
    if (body.size > 0 || request.method == "PUT" || request.method == "POST") {
      request.body_size = body.size;
      request.body_source = [source](char* buffer, std::size_t capacity) {
        return source->read(buffer, capacity);
      };
    }
    if (sink) request.body_sink = sink;
    auto signed_request =
        sign_http_request(request, *credential, SigV4Options::s3(region), payload_hash);
    if (!signed_request) return signed_request.error();
    // A streamed download cannot be replayed into the same sink, so it is
    // tried once; everything else is retried on 5xx, 429 and network errors.
    HttpOutcome outcome =
        sink ? http_send(request)
             : http_send_with_retries(request, settings.retry, [source] { source->position = 0; });
    if (!outcome.response) {
      std::string origin =
          endpoint.origin.empty() ? object_origin(context.bucket) : endpoint.origin;
      return unavailable(origin + ": " + outcome.failure_text + " (" + context.subject +
                         "); check --endpoint / artifact.endpoint and that the store is reachable");
    }
    return std::move(*outcome.response);
  }

  std::string object_origin(std::string_view bucket) const {
    if (!endpoint.origin.empty()) return endpoint.origin;
    if (bucket.find('.') != std::string_view::npos) {
      return "https://s3." + region + ".amazonaws.com";
    }
    return "https://" + std::string(bucket) + ".s3." + region + ".amazonaws.com";
  }

  std::string url(std::string_view bucket, std::string_view key, std::string_view query) const {
    std::string out;
    // Path style for S3-compatible endpoints and for bucket names with dots
    // (whose virtual host would not match AWS's TLS certificate).
    if (!endpoint.origin.empty() || bucket.find('.') != std::string_view::npos) {
      out = object_origin(bucket) + endpoint.path + "/" + std::string(bucket) + "/" +
            aws_uri_encode(key, false);
    } else {
      out = object_origin(bucket) + "/" + aws_uri_encode(key, false);
    }
    if (!query.empty()) out += "?" + std::string(query);
    return out;
  }

  // PUTs `body` as one object with its SHA-256 `digest`, which the store
  // checks (x-amz-checksum-sha256) and the signature covers.
  Result<void> put_object(const std::string& bucket, const std::string& key, std::string_view body,
                          std::string_view content_type,
                          const std::array<std::uint8_t, 32>& digest) {
    CallContext context{s3_uri(bucket, key), bucket, key, "s3:PutObject"};
    HttpHeaders headers = {{"Content-Type", std::string(content_type)},
                           {"x-amz-checksum-sha256", base64_encode(digest.data(), digest.size())}};
    auto response = call(context, "PUT", url(bucket, key, ""), std::move(headers), body,
                         to_hex(digest.data(), digest.size()));
    if (!response) return response.error();
    if (response->status != 200) return explain(context, *response);
    return {};
  }

  // Turns an S3 error answer into one line that says what to do.
  Error explain(const CallContext& context, const HttpResponse& response) const {
    std::string code = xml_text(response.body, "Code");
    std::string message = xml_text(response.body, "Message");
    std::string status =
        "HTTP " + std::to_string(response.status) + (code.empty() ? "" : " " + code);
    if (code == "NoSuchBucket") {
      return usage_error("s3://" + context.bucket + ": no such bucket (" + status +
                         "); check the bucket in --store / artifact.store, or create it");
    }
    if (code == "RequestTimeTooSkewed") {
      return unavailable(context.subject + ": this machine's clock is too far from the store's (" +
                         status + "); fix the clock (timedatectl / ntp)");
    }
    if (code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "ExpiredToken" ||
        code == "InvalidToken") {
      return unavailable(context.subject + ": the store rejected the credentials from " +
                         credential_source + " (" + status +
                         "); check the access key, secret and session token");
    }
    if (response.status == 403) {
      std::string folder = settings.iam_prefix.empty()
                               ? context.key.substr(0, context.key.rfind('/') + 1)
                               : settings.iam_prefix + "/";
      std::string resource = "arn:aws:s3:::" + context.bucket + "/" + folder + "*";
      // Without s3:ListBucket, S3 answers a read of a missing key with 403
      // instead of 404, and push-artifact reads the manifest first.
      std::string list_hint = context.permission == "s3:GetObject"
                                  ? " and s3:ListBucket on arn:aws:s3:::" + context.bucket
                                  : "";
      return unavailable(context.subject + ": access denied (" + status +
                         ") for the credentials from " + credential_source + "; grant " +
                         context.permission + " on " + resource + list_hint + " to that identity");
    }
    std::string detail = message.empty() ? "" : ": " + message;
    return failure(context.subject + ": " + status + detail +
                   (response.status >= 500 || response.status == 429
                        ? "; the store kept failing after retries, try again later"
                        : "; check the store and the object key"));
  }
};

S3Client::S3Client(std::unique_ptr<State> state) : m_state(std::move(state)) {}
S3Client::~S3Client() = default;
S3Client::S3Client(S3Client&&) noexcept = default;
S3Client& S3Client::operator=(S3Client&&) noexcept = default;

Result<S3Client> S3Client::connect(const S3Settings& settings) {
  auto state = std::make_unique<State>();
  state->settings = settings;
  if (state->settings.part_size == 0) state->settings.part_size = configured_part_size();
  if (state->settings.parts_in_flight == 0) {
    state->settings.parts_in_flight = configured_parts_in_flight();
  }
  if (state->settings.parts_in_flight < 1) state->settings.parts_in_flight = 1;
  if (!settings.endpoint.empty()) {
    if (settings.endpoint.rfind("http://", 0) != 0 && settings.endpoint.rfind("https://", 0) != 0) {
      return usage_error("--endpoint " + settings.endpoint +
                         ": not an http:// or https:// URL; write e.g. http://127.0.0.1:9000");
    }
    state->endpoint = parse_endpoint(settings.endpoint);
  }

  AwsChainOptions chain;
  chain.profile = settings.profile;
  chain.region = settings.region;
  chain.ca_file = settings.ca_file;
  auto region = resolve_aws_region(chain);
  if (region) {
    state->region = *region;
  } else if (!settings.endpoint.empty()) {
    // S3-compatible stores rarely care about the region; sign for the
    // default one rather than refuse.
    state->region = "us-east-1";
  } else {
    return region.error();
  }
  chain.region = state->region;

  state->credentials = std::make_unique<AwsCredentialProvider>(chain);
  auto credentials = state->credentials->get();
  if (!credentials) return credentials.error();
  state->credential_source = credentials->source;
  log::debug("S3: region {}, credentials from {}", state->region, credentials->source);
  return S3Client(std::move(state));
}

std::string S3Client::object_url(std::string_view bucket, std::string_view key) const {
  return m_state->url(bucket, key, "");
}

Result<std::optional<S3ObjectInfo>> S3Client::head_object(const std::string& bucket,
                                                          const std::string& key) {
  CallContext context{s3_uri(bucket, key), bucket, key, "s3:GetObject"};
  auto response = m_state->call(context, "HEAD", m_state->url(bucket, key, ""), {}, "", "");
  if (!response) return response.error();
  if (response->status == 404) return std::optional<S3ObjectInfo>();
  if (response->status != 200) return m_state->explain(context, *response);
  S3ObjectInfo info;
  info.size = std::strtoull(response->header("Content-Length").c_str(), nullptr, 10);
  info.etag = response->header("ETag");
  info.version_id = response->header("x-amz-version-id");
  return std::optional<S3ObjectInfo>(info);
}

Result<std::optional<std::string>> S3Client::get_small_object(const std::string& bucket,
                                                              const std::string& key) {
  CallContext context{s3_uri(bucket, key), bucket, key, "s3:GetObject"};
  auto response = m_state->call(context, "GET", m_state->url(bucket, key, ""), {}, "", "");
  if (!response) return response.error();
  if (response->status == 404 && xml_text(response->body, "Code") != "NoSuchBucket") {
    return std::optional<std::string>();
  }
  if (response->status != 200) return m_state->explain(context, *response);
  return std::optional<std::string>(std::move(response->body));
}

Result<void> S3Client::get_object(const std::string& bucket, const std::string& key,
                                  const std::function<bool(std::string_view chunk)>& sink) {
  CallContext context{s3_uri(bucket, key), bucket, key, "s3:GetObject"};
  // Error answers do not reach `sink`: http_send keeps them in the body.
  auto response = m_state->call(context, "GET", m_state->url(bucket, key, ""), {}, "", "", sink);
  if (!response) return response.error();
  if (response->status == 200) return {};
  if (response->status == 404 && xml_text(response->body, "Code") != "NoSuchBucket") {
    return unavailable(context.subject + ": no such object; check the URI and that it was pushed");
  }
  return m_state->explain(context, *response);
}

Result<void> S3Client::put_small_object(const std::string& bucket, const std::string& key,
                                        std::string_view body, std::string_view content_type) {
  Sha256 hash;
  hash.update(body);
  return m_state->put_object(bucket, key, body, content_type, hash.finish());
}

Result<std::string> S3Client::create_multipart_upload(const std::string& bucket,
                                                      const std::string& key) {
  CallContext context{s3_uri(bucket, key), bucket, key, "s3:PutObject"};
  HttpHeaders headers = {{"x-amz-checksum-algorithm", "SHA256"}};
  auto response = m_state->call(context, "POST", m_state->url(bucket, key, "uploads="),
                                std::move(headers), "", "");
  if (!response) return response.error();
  if (response->status != 200) return m_state->explain(context, *response);
  std::string upload_id = xml_text(response->body, "UploadId");
  if (upload_id.empty()) {
    return failure(context.subject +
                   ": the store started a multipart upload without an UploadId; " +
                   "is the endpoint an S3 store?");
  }
  return upload_id;
}

Result<std::string> S3Client::upload_part_from_file(
    const std::string& bucket, const std::string& key, const std::string& upload_id, int fd,
    const PartRange& range, const std::string& sha256_base64, const std::string& sha256_hex) {
  CallContext context{s3_uri(bucket, key) + " (part " + std::to_string(range.number) + ")", bucket,
                      key, "s3:PutObject"};
  std::string query =
      "partNumber=" + std::to_string(range.number) + "&uploadId=" + aws_uri_encode(upload_id, true);
  HttpHeaders headers = {{"x-amz-checksum-sha256", sha256_base64}};
  auto response =
      m_state->call(context, "PUT", m_state->url(bucket, key, query), std::move(headers),
                    ReplayableBody::file_range(fd, range.offset, range.size), sha256_hex);
  if (!response) return response.error();
  if (response->status != 200) return m_state->explain(context, *response);
  return response->header("ETag");
}

Result<void> S3Client::complete_multipart_upload(const std::string& bucket, const std::string& key,
                                                 const std::string& upload_id,
                                                 const std::vector<CompletedPart>& parts) {
  CallContext context{s3_uri(bucket, key), bucket, key, "s3:PutObject"};
  std::string body = "<CompleteMultipartUpload xmlns=\"" + std::string(k_s3_namespace) + "\">";
  for (const auto& part : parts) {
    body += "<Part><ChecksumSHA256>" + part.sha256_base64 + "</ChecksumSHA256><ETag>" +
            xml_escape(part.etag) + "</ETag><PartNumber>" + std::to_string(part.number) +
            "</PartNumber></Part>";
  }
  body += "</CompleteMultipartUpload>";
  std::string query = "uploadId=" + aws_uri_encode(upload_id, true);
  auto response = m_state->call(context, "POST", m_state->url(bucket, key, query),
                                {{"Content-Type", "application/xml"}}, body, "");
  if (!response) return response.error();
  // S3 may answer 200 and still report an error in the body.
  if (response->status != 200 || response->body.find("<Error>") != std::string::npos) {
    return m_state->explain(context, *response);
  }
  return {};
}

Result<void> S3Client::abort_multipart_upload(const std::string& bucket, const std::string& key,
                                              const std::string& upload_id) {
  CallContext context{s3_uri(bucket, key), bucket, key, "s3:AbortMultipartUpload"};
  std::string query = "uploadId=" + aws_uri_encode(upload_id, true);
  auto response = m_state->call(context, "DELETE", m_state->url(bucket, key, query), {}, "", "");
  if (!response) return response.error();
  if (response->status != 204 && response->status != 200 && response->status != 404) {
    return m_state->explain(context, *response);
  }
  return {};
}

Result<std::string> S3Client::presign_get(const std::string& bucket, const std::string& key,
                                          Duration lifetime) const {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(lifetime);
  if (seconds.count() < 1 || seconds > k_max_presign_expiry) {
    return usage_error("--presign " + format_duration(lifetime) +
                       ": a presigned URL lives 1s to 7 days; choose a duration in that range");
  }
  auto credentials = m_state->credentials->get();
  if (!credentials) return credentials.error();
  return presign_url("GET", object_url(bucket, key), *credentials,
                     SigV4Options::s3(m_state->region), seconds);
}

namespace {

// The state the part uploaders share. A worker takes the next part and
// hashes it under `hashing`, so parts feed the whole-file digest in file
// order without a turn to wait for; it then sends the part streamed from
// disk, so memory stays small whatever the part or file size.
struct MultipartRun {
  std::mutex hashing;
  std::uint32_t next_part = 0;  // under `hashing`
  // Each part's digest and the whole file's, from one read of the bytes
  // into `buffer`; both under `hashing`, so one buffer serves all workers.
  Sha256Twin digests;
  std::vector<char> buffer = std::vector<char>(k_mib);

  std::mutex mutex;
  std::optional<Error> error;
  std::vector<S3Client::CompletedPart> completed;
  std::uint64_t done = 0;

  bool failed() {
    std::lock_guard lock(mutex);
    return error.has_value();
  }
  void fail(Error failure_error) {
    std::lock_guard lock(mutex);
    if (!error) error = std::move(failure_error);
  }
};

}  // namespace

Result<S3UploadResult> S3Client::upload_file(const std::string& bucket, const std::string& key,
                                             const std::filesystem::path& file,
                                             const std::string& expected_sha256,
                                             const S3Progress& progress) {
  auto opened = open_for_reading(file);
  if (!opened) return opened.error();
  int fd = opened->get();
  struct stat info {};
  ::fstat(fd, &info);
  auto size = static_cast<std::uint64_t>(info.st_size);
  std::string subject = s3_uri(bucket, key);
  auto mismatch = [&](const std::string& actual) {
    return failure(file.string() + ": sha256 " + actual + " does not match the expected " +
                   expected_sha256 + "; the file changed after it was described, rebuild it");
  };

  // Small files: one PUT from memory.
  if (size <= m_state->settings.part_size) {
    std::string body(size, '\0');
    if (auto read = read_range(fd, body.data(), 0, size, file); !read) return read.error();
    Sha256 hash;
    hash.update(body);
    auto digest = hash.finish();
    std::string hex = to_hex(digest.data(), digest.size());
    if (!expected_sha256.empty() && hex != expected_sha256) return mismatch(hex);
    auto put = m_state->put_object(bucket, key, body, "application/octet-stream", digest);
    if (!put) return put.error();
    if (progress) progress(size, size);
    return S3UploadResult{size, hex, false, 1};
  }

  // Big files: multipart, several parts in flight.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  MultipartPlan plan = plan_multipart(size, m_state->settings.part_size);
  auto upload_id = create_multipart_upload(bucket, key);
  if (!upload_id) return upload_id.error();
  log::debug("{}: multipart upload of {} parts of {} bytes", subject, plan.part_count,
             plan.part_size);

  MultipartRun run;
  run.completed.resize(plan.part_count);
  auto worker = [&] {
    while (!run.failed()) {
      if (interrupted()) {
        run.fail(Error{ExitCode::Interrupted, subject + ": interrupted"});
        return;
      }
      PartRange range;
      Sha256Twin::Digest digest;
      {
        std::lock_guard lock(run.hashing);
        if (run.next_part >= plan.part_count || run.failed()) return;
        range = plan.part(run.next_part++);
        for (std::uint64_t at = 0; at < range.size;) {
          auto n = std::min<std::uint64_t>(run.buffer.size(), range.size - at);
          if (auto read = read_range(fd, run.buffer.data(), range.offset + at, n, file); !read) {
            run.fail(read.error());
            return;
          }
          run.digests.update(run.buffer.data(), n);
          at += n;
        }
        digest = run.digests.finish_part();
      }
      // Send it, streamed from disk again (the page cache, by now).
      std::string checksum = base64_encode(digest.data(), digest.size());
      auto etag = upload_part_from_file(bucket, key, *upload_id, fd, range, checksum,
                                        to_hex(digest.data(), digest.size()));
      if (!etag) {
        run.fail(etag.error());
        return;
      }
      std::lock_guard lock(run.mutex);
      run.completed[range.number - 1] = CompletedPart{range.number, *etag, checksum};
      run.done += range.size;
      if (progress) progress(run.done, size);
    }
  };
  int threads = std::min<int>(m_state->settings.parts_in_flight, static_cast<int>(plan.part_count));
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(threads));
  for (int i = 0; i < threads; ++i)
    workers.emplace_back(worker);
  for (auto& thread : workers)
    thread.join();

  std::optional<Error> error = run.error;
  std::string sha256;
  if (!error) {
    auto whole = run.digests.finish_whole();
    sha256 = to_hex(whole.data(), whole.size());
    if (!expected_sha256.empty() && sha256 != expected_sha256) error = mismatch(sha256);
  }
  if (!error) {
    auto completed = complete_multipart_upload(bucket, key, *upload_id, run.completed);
    if (completed) return S3UploadResult{size, sha256, true, plan.part_count};
    error = completed.error();
  }
  // Leave no partial upload behind (S3 would keep billing for its parts).
  auto aborted = abort_multipart_upload(bucket, key, *upload_id);
  if (!aborted) {
    log::warn("{}: could not abort the multipart upload {}: {}", subject, *upload_id,
              aborted.error().message);
    return *error;
  }
  log::info("{}: aborted the multipart upload, so no partial upload is left", subject);
  error->message += " (the multipart upload was aborted)";
  return *error;
}

}  // namespace switchyard
