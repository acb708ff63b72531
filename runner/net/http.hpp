// HTTP over libcurl: timeouts, TLS verification on by default, retries with
// backoff for idempotent calls.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

struct TlsOptions {
  std::string ca_file;    // --cacert: trust this CA bundle
  bool insecure = false;  // --insecure: no verification at all
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Headers a caller does not set are not invented: no form Content-Type on a
// POST, and no "Expect: 100-continue" for bodies under 1 MiB. Proxies named by
// the environment are honoured except for loopback, which is always direct.
struct HttpRequest {
  std::string method = "GET";
  std::string url;  // http:// or https:// only
  HttpHeaders headers;
  std::string body;  // small bodies; large ones use body_source
  // Streams a large body: called to fill `buffer`, returns bytes written
  // (0 at the end). `body_size` must be set with it.
  std::function<std::size_t(char* buffer, std::size_t capacity)> body_source;
  std::optional<std::uint64_t> body_size;
  // Streams the response body instead of keeping it (downloads); return
  // false to abort. Only 2xx answers go to the sink: an error answer is kept
  // in HttpResponse::body (up to 64 KiB) so a message can quote it.
  std::function<bool(std::string_view chunk)> body_sink;
  Duration timeout{std::chrono::seconds(30)};  // the whole transfer; 0: none
  Duration connect_timeout{std::chrono::seconds(5)};
  TlsOptions tls;
  std::string unix_socket;  // optional: talk over this socket instead of TCP
};

struct HttpResponse {
  long status = 0;
  HttpHeaders headers;  // names as received
  std::string body;     // empty when body_sink was used
  // The first header called `name` (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

// Why a request got no response at all.
enum class TransportFailure { None, ConnectionRefused, Timeout, Tls, Resolve, Other };

struct HttpOutcome {
  std::optional<HttpResponse> response;  // set when the server answered
  TransportFailure failure = TransportFailure::None;
  std::string failure_text;  // "connection refused", "timed out after 2s", ...
};

// One attempt. Never throws; a transport failure is reported in the outcome.
HttpOutcome http_send(const HttpRequest& request);

struct RetryPolicy {
  int attempts = 4;  // in all, including the first
  Duration first_backoff{std::chrono::milliseconds(200)};
  Duration max_backoff{std::chrono::seconds(5)};
  // Which answers are worth another try (default: 5xx and 429).
  std::function<bool(long status)> retry_status = [](long s) { return s >= 500 || s == 429; };
};

// The wait before retry number `retry` (1-based): exponential from
// `policy.first_backoff`, capped at `policy.max_backoff`, jittered between
// half and all of the step so clients that failed together do not retry
// together.
Duration retry_backoff(int retry, const RetryPolicy& policy);

// Sends with retries and jittered exponential backoff, for idempotent calls
// (GET, PUT of a whole object or part). Transport failures other than TLS
// and `retry_status` answers are retried; a "Retry-After: N" answer waits at
// least N seconds (capped by `max_backoff`). `request.body_source` and
// `request.body_sink` must be restartable: `rewind` is called before every
// retry to reset both.
HttpOutcome http_send_with_retries(const HttpRequest& request, const RetryPolicy& policy,
                                   const std::function<void()>& rewind = {});

// Why `url` is not an absolute http:// or https:// URL with a host ("not an
// http:// or https:// URL", "no host name"), or "" when it is one.
std::string http_url_problem(std::string_view url);

}  // namespace switchyard
