#include "runner/store/http_store.hpp"

#include "runner/net/http.hpp"

namespace switchyard {
namespace {

Error read_only(const Location& location) {
  return usage_error(location.subject() +
                     ": an http(s) URL can only be fetched from; push to file:// or s3://");
}

}  // namespace

Result<std::string> HttpStore::put(const std::filesystem::path& /*file*/, const Location& to,
                                   std::string_view /*expected_sha256*/,
                                   const ProgressFunction& /*progress*/) {
  return read_only(to);
}

Result<void> HttpStore::put_manifest(const Location& artifact, const Manifest& /*manifest*/) {
  return read_only(artifact);
}

Result<bool> HttpStore::holds(const Location& artifact, const Manifest& /*manifest*/) {
  return read_only(artifact);
}

Result<std::optional<Manifest>> HttpStore::manifest(const Location& artifact) {
  if (artifact.uri.find('?') != std::string::npos) return std::optional<Manifest>();
  HttpRequest request;
  request.url = artifact.manifest_beside().uri;
  request.tls.ca_file = m_ca_file;
  auto outcome = http_send_with_retries(request, RetryPolicy{});
  if (!outcome.response || outcome.response->status != 200) return std::optional<Manifest>();
  auto manifest = manifest_from_json(outcome.response->body, request.url);
  if (!manifest) return manifest.error();
  return std::optional<Manifest>(*manifest);
}

Result<std::string> HttpStore::fetch(const Location& from, const std::filesystem::path& destination,
                                     std::string_view expected_sha256) {
  std::string subject = from.subject();
  auto writer = AtomicFileWriter::open(destination);
  if (!writer) return writer.error();
  Result<void> write_status;
  HttpRequest request;
  request.url = from.uri;
  request.tls.ca_file = m_ca_file;
  request.timeout = std::chrono::hours(1);
  request.body_sink = [&](std::string_view chunk) {
    write_status = writer->write(chunk);
    return write_status.ok();
  };
  // One attempt: a retry would have to start over in a fresh temp file.
  auto outcome = http_send(request);
  if (!write_status) return write_status.error();
  if (!outcome.response) {
    return unavailable(subject + ": " + outcome.failure_text +
                       "; check the URL and that the store is reachable");
  }
  if (outcome.response->status != 200) {
    std::string hint =
        outcome.response->status == 403
            ? "; a presigned URL may have expired: make a new one with a longer --presign"
            : "; check the URL";
    return failure(subject + ": HTTP " + std::to_string(outcome.response->status) + hint);
  }
  return writer->commit(expected_sha256, subject);
}

}  // namespace switchyard
