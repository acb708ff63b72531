#include "runner/net/http.hpp"

#include <curl/curl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include "runner/core/log.hpp"
#include "runner/util/strings.hpp"

namespace switchyard {
namespace {

// Loopback is always reached directly, whatever proxy the environment names:
// a deploy that health-checks 127.0.0.1 through a corporate proxy would
// probe the proxy, not the service.
constexpr const char* k_loopback_hosts = "localhost,127.0.0.1,::1,[::1]";

// Error answers are kept whole (up to this size) instead of being streamed to
// a body_sink, so callers can quote them in messages.
constexpr std::size_t k_error_body_limit = std::size_t{64} * 1024;

// Bodies from this size on keep curl's "Expect: 100-continue".
constexpr std::uint64_t k_expect_threshold = std::uint64_t{1024} * 1024;
// A big body (a multipart part) goes through a 512 KiB upload buffer, so
// curl calls the read callback, pread and send() 8 times less often than with
// its 64 KiB default: about 0.07 CPU s less per GiB uploaded, for about 6 MiB
// more peak RSS with 8 parts in flight (2 MiB buffers saved no more and cost
// 25 MiB; see docs/BENCHMARKS.md "## Artifacts").
constexpr std::uint64_t k_big_body = std::uint64_t{1024} * 1024;
constexpr long k_big_upload_buffer = 512L * 1024;

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool has_header(const HttpHeaders& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& header) { return equals_ignoring_case(header.first, name); });
}

std::string no_proxy_list() {
  std::string list = k_loopback_hosts;
  for (const char* name : {"NO_PROXY", "no_proxy"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') {
      list += ",";
      list += value;
      break;
    }
  }
  return list;
}

// Everything one transfer needs to outlive curl_easy_perform.
struct Transfer {
  const HttpRequest* request = nullptr;
  CURL* easy = nullptr;
  HttpResponse response;
  std::size_t body_offset = 0;  // for a string body sent through the read callback
  bool sink_refused = false;
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  // A new status line starts a new header block (after 100 Continue or a
  // redirect): only the last block describes the answer.
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->response.headers.clear();
    return size * count;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    transfer->response.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                            std::string(trim(line.substr(colon + 1))));
  }
  return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view chunk(data, size * count);
  long status = 0;
  curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &status);
  bool success = status >= 200 && status < 300;
  if (transfer->request->body_sink && success) {
    if (!transfer->request->body_sink(chunk)) {
      transfer->sink_refused = true;
      return 0;  // makes curl stop with CURLE_WRITE_ERROR
    }
    return chunk.size();
  }
  std::size_t limit = transfer->request->body_sink ? k_error_body_limit : std::string::npos;
  std::size_t room = limit - std::min(limit, transfer->response.body.size());
  transfer->response.body.append(chunk.substr(0, std::min(room, chunk.size())));
  return chunk.size();
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::size_t capacity = size * count;
  if (transfer->request->body_source) return transfer->request->body_source(buffer, capacity);
  const std::string& body = transfer->request->body;
  // Raw bytes for curl's buffer, as many as fit: string::copy writes no terminator.
  std::size_t n = body.copy(buffer, capacity, transfer->body_offset);
  transfer->body_offset += n;
  return n;
}

// Sets the method and how the body travels: PUT as an upload, POST (and
// other methods) through the read callback with a known size.
void set_method_and_body(Transfer& transfer) {
  const HttpRequest& request = *transfer.request;
  CURL* easy = transfer.easy;
  bool streamed = static_cast<bool>(request.body_source);
  bool has_body =
      streamed || !request.body.empty() || request.method == "PUT" || request.method == "POST";
  auto size =
      static_cast<curl_off_t>(streamed ? request.body_size.value_or(0) : request.body.size());
  if (request.method == "GET" && !has_body) {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    return;
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    return;
  }
  if (!has_body) {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    return;
  }
  curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
  curl_easy_setopt(easy, CURLOPT_READDATA, &transfer);
  if (static_cast<std::uint64_t>(size) >= k_big_body) {
    curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, k_big_upload_buffer);
  }
  if (request.method == "POST") {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, size);
  } else {
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, size);
    if (request.method != "PUT") {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }
}

curl_slist* build_headers(const HttpRequest& request) {
  curl_slist* list = nullptr;
  for (const auto& [name, value] : request.headers) {
    // "Name;" is curl's way to send a header with an empty value.
    std::string line = name;
    line += value.empty() ? ";" : ": ";
    line += value;
    list = curl_slist_append(list, line.c_str());
  }
  // Waiting up to a second for "100 Continue" costs more than sending a
  // small body for nothing; a big upload keeps curl's default, so a refusal
  // (403, 413) arrives before the body is sent.
  std::uint64_t size = request.body_source ? request.body_size.value_or(0) : request.body.size();
  if (!has_header(request.headers, "Expect") && size < k_expect_threshold) {
    list = curl_slist_append(list, "Expect:");
  }
  // curl would label a POST body as a form; callers say what they send.
  if (!has_header(request.headers, "Content-Type") &&
      (request.body_source || !request.body.empty() || request.method == "POST")) {
    list = curl_slist_append(list, "Content-Type:");
  }
  return list;
}

std::string timeout_text(Duration d) {
  return "timed out after " + format_duration(d);
}

// Turns curl's error into a TransportFailure and a short text a person reads.
HttpOutcome classify(CURLcode code, Transfer& transfer, const char* error_buffer) {
  HttpOutcome outcome;
  std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  const HttpRequest& request = *transfer.request;
  switch (code) {
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(transfer.easy, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno == ECONNREFUSED || os_errno == ENOENT) {
        outcome.failure = TransportFailure::ConnectionRefused;
        outcome.failure_text = "connection refused";
      } else {
        outcome.failure = TransportFailure::Other;
        outcome.failure_text = "could not connect: " + detail;
      }
      break;
    }
    case CURLE_OPERATION_TIMEDOUT: {
      outcome.failure = TransportFailure::Timeout;
      curl_off_t connected_at = 0;
      curl_easy_getinfo(transfer.easy, CURLINFO_CONNECT_TIME_T, &connected_at);
      bool connected = connected_at > 0 || !request.unix_socket.empty();
      outcome.failure_text =
          connected ? timeout_text(request.timeout)
                    : "connect " + timeout_text(std::min(request.timeout, request.connect_timeout));
      break;
    }
    case CURLE_COULDNT_RESOLVE_HOST:
      outcome.failure = TransportFailure::Resolve;
      outcome.failure_text = "could not resolve the host name";
      break;
    case CURLE_PEER_FAILED_VERIFICATION: {
      outcome.failure = TransportFailure::Tls;
      long verify = 0;
      curl_easy_getinfo(transfer.easy, CURLINFO_SSL_VERIFYRESULT, &verify);
      if (verify != 0) {
        outcome.failure_text = std::string("TLS: certificate verify failed (") +
                               X509_verify_cert_error_string(verify) + ")";
      } else {
        outcome.failure_text = "TLS: " + detail;
      }
      break;
    }
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      outcome.failure = TransportFailure::Tls;
      outcome.failure_text = "TLS: " + detail;
      break;
    case CURLE_GOT_NOTHING:
      outcome.failure = TransportFailure::Other;
      outcome.failure_text = "the server closed the connection without answering";
      break;
    case CURLE_WRITE_ERROR:
      outcome.failure = TransportFailure::Other;
      outcome.failure_text =
          transfer.sink_refused ? "the download was stopped by its receiver" : detail;
      break;
    default:
      outcome.failure = TransportFailure::Other;
      outcome.failure_text = detail;
      break;
  }
  return outcome;
}

long to_ms(Duration d) {
  return static_cast<long>(std::max<Duration::rep>(d.count(), 0));
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equals_ignoring_case(key, name)) return value;
  }
  return "";
}

HttpOutcome http_send(const HttpRequest& request) {
  init_curl_once();
  Transfer transfer;
  transfer.request = &request;
  transfer.easy = curl_easy_init();
  if (transfer.easy == nullptr) {
    return HttpOutcome{std::nullopt, TransportFailure::Other, "could not start an HTTP transfer"};
  }
  CURL* easy = transfer.easy;
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::string no_proxy = no_proxy_list();
  curl_slist* headers = build_headers(request);

  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
  // Signals would be unsafe with threads; curl then resolves with its
  // threaded resolver, which honours the timeouts without them.
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "switchyard/" SWITCHYARD_VERSION);
  curl_easy_setopt(easy, CURLOPT_NOPROXY, no_proxy.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
  if (request.timeout.count() > 0)
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, to_ms(request.timeout));
  if (request.connect_timeout.count() > 0) {
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, to_ms(request.connect_timeout));
  }
  if (request.tls.insecure) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!request.tls.ca_file.empty()) {
      curl_easy_setopt(easy, CURLOPT_CAINFO, request.tls.ca_file.c_str());
    }
  }
  if (!request.unix_socket.empty()) {
    curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, request.unix_socket.c_str());
  }
  set_method_and_body(transfer);

  CURLcode code = curl_easy_perform(easy);
  HttpOutcome outcome;
  if (code == CURLE_OK) {
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &transfer.response.status);
    outcome.response = std::move(transfer.response);
  } else {
    outcome = classify(code, transfer, error_buffer);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  return outcome;
}

// Full jitter between half and all of the exponential step, so clients that
// failed together do not retry together.
Duration retry_backoff(int retry, const RetryPolicy& policy) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  auto step = policy.first_backoff.count();
  for (int i = 1; i < retry && step < policy.max_backoff.count(); ++i)
    step *= 2;
  step = std::min(step, policy.max_backoff.count());
  std::uniform_int_distribution<Duration::rep> pick(step / 2, std::max<Duration::rep>(step, 0));
  return Duration(pick(random));
}

namespace {

// A "Retry-After: N" (seconds) answer, capped by the policy's longest wait.
Duration retry_after(const HttpOutcome& outcome, const RetryPolicy& policy) {
  if (!outcome.response) return Duration(0);
  std::string value = outcome.response->header("Retry-After");
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos) {
    return Duration(0);
  }
  Duration asked = std::chrono::seconds(std::stoll(value.substr(0, 6)));
  return std::min(asked, policy.max_backoff);
}

// The URL without its query, which may carry a presigned credential.
std::string without_query(std::string_view url) {
  return std::string(url.substr(0, url.find('?')));
}

bool worth_retrying(const HttpOutcome& outcome, const RetryPolicy& policy) {
  if (outcome.response) return policy.retry_status && policy.retry_status(outcome.response->status);
  // A certificate does not become trusted by asking again.
  return outcome.failure != TransportFailure::Tls;
}

}  // namespace

HttpOutcome http_send_with_retries(const HttpRequest& request, const RetryPolicy& policy,
                                   const std::function<void()>& rewind) {
  int attempts = std::max(policy.attempts, 1);
  HttpOutcome outcome;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      Duration wait = std::max(retry_backoff(attempt - 1, policy), retry_after(outcome, policy));
      std::string why = outcome.response ? "status " + std::to_string(outcome.response->status)
                                         : outcome.failure_text;
      log::debug("{} {}: {}; retrying in {} (attempt {} of {})", request.method,
                 without_query(request.url), why, format_duration(wait), attempt, attempts);
      std::this_thread::sleep_for(wait);
      if (rewind) rewind();
    }
    outcome = http_send(request);
    if (!worth_retrying(outcome, policy)) break;
  }
  return outcome;
}

std::string http_url_problem(std::string_view url) {
  init_curl_once();
  std::string_view scheme_end = "://";
  auto colon = url.find(scheme_end);
  std::string scheme = to_lower(colon == std::string_view::npos ? "" : url.substr(0, colon));
  if (scheme != "http" && scheme != "https") return "not an http:// or https:// URL";
  CURLU* parsed = curl_url();
  std::string text(url);
  CURLUcode code = curl_url_set(parsed, CURLUPART_URL, text.c_str(), 0);
  std::string problem;
  if (code != CURLUE_OK) {
    problem = std::string("not a valid URL (") + curl_url_strerror(code) + ")";
  } else {
    char* host = nullptr;
    if (curl_url_get(parsed, CURLUPART_HOST, &host, 0) != CURLUE_OK || host == nullptr ||
        *host == '\0') {
      problem = "no host name";
    }
    curl_free(host);
  }
  curl_url_cleanup(parsed);
  return problem;
}

}  // namespace switchyard
