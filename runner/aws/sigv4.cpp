#include "runner/aws/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "runner/util/sha256.hpp"
#include "runner/util/strings.hpp"

namespace switchyard {
namespace {

constexpr std::string_view k_algorithm = "AWS4-HMAC-SHA256";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// SigV4's trimall: removes leading and trailing whitespace and turns every
// run of whitespace inside the value, line breaks of a folded header
// included, into one space ("a \n\t b" -> "a b"), as botocore's
// ' '.join(value.split()) does for ASCII.
std::string canonical_header_value(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

// Headers a proxy or the HTTP library may change on the way: signing them
// would break the signature for no gain (botocore leaves out the same ones).
bool is_unsignable_header(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "x-amzn-trace-id" || lower_name == "connection" ||
         lower_name == "transfer-encoding";
}

struct CanonicalHeaders {
  std::string block;  // "name:value\n" per header, sorted
  std::string signed_names;
};

CanonicalHeaders canonicalize_headers(const std::string& host, const HttpHeaders& headers) {
  // std::map keeps the names sorted; values of a repeated name stay in order.
  std::map<std::string, std::vector<std::string>> by_name;
  for (const auto& [name, value] : headers) {
    std::string lower = to_lower(name);
    if (is_unsignable_header(lower)) continue;
    by_name[lower].push_back(canonical_header_value(value));
  }
  if (by_name.find("host") == by_name.end()) by_name["host"].push_back(host);

  CanonicalHeaders out;
  for (const auto& [name, values] : by_name) {
    out.block += name;
    out.block += ':';
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out.block += ',';
      out.block += values[i];
    }
    out.block += '\n';
    if (!out.signed_names.empty()) out.signed_names += ';';
    out.signed_names += name;
  }
  return out;
}

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Encodes every name and value and sorts by encoded name, then encoded value
// (byte order, as AWS compares them).
std::string canonical_query(const QueryParams& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) {
    encoded.emplace_back(aws_uri_encode(name, true), aws_uri_encode(value, true));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

// The query string to send: parameters in the caller's order, encoded.
std::string wire_query(const QueryParams& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += aws_uri_encode(name, true);
    out += '=';
    out += aws_uri_encode(value, true);
  }
  return out;
}

std::string canonical_path(std::string_view path, const SigV4Options& options) {
  std::string result = path.empty() ? std::string("/") : std::string(path);
  if (options.normalize_path) result = normalize_uri_path(result);
  if (options.double_encode_path) result = aws_uri_encode(result, false);
  return result;
}

std::string date_stamp(const std::string& amz_date) {
  return amz_date.substr(0, 8);
}

std::string signing_key(const AwsCredentials& credentials, const std::string& date,
                        const SigV4Options& options) {
  std::string key = hmac_sha256("AWS4" + credentials.secret_access_key, date);
  key = hmac_sha256(key, options.region);
  key = hmac_sha256(key, options.service);
  return hmac_sha256(key, "aws4_request");
}

std::string hex(std::string_view bytes) {
  return to_hex(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

// The parts every variant shares: date, scope, and the signature over a
// finished canonical request.
struct Scope {
  std::string amz_date;
  std::string credential_scope;
};

Scope make_scope(const SigV4Options& options) {
  Scope scope;
  scope.amz_date = aws_amz_date(options.time.value_or(std::chrono::system_clock::now()));
  scope.credential_scope =
      date_stamp(scope.amz_date) + "/" + options.region + "/" + options.service + "/aws4_request";
  return scope;
}

void finish_signature(SigV4Result& result, const AwsCredentials& credentials,
                      const SigV4Options& options) {
  result.string_to_sign = std::string(k_algorithm) + "\n" + result.amz_date + "\n" +
                          result.credential_scope + "\n" + sha256_hex(result.canonical_request);
  result.signature = hex(hmac_sha256(signing_key(credentials, date_stamp(result.amz_date), options),
                                     result.string_to_sign));
}

std::string build_canonical_request(const SigV4Request& request, const SigV4Options& options,
                                    const std::string& query, const CanonicalHeaders& headers,
                                    const std::string& payload_hash) {
  std::string out = request.method;
  out += '\n';
  out += canonical_path(request.path, options);
  out += '\n';
  out += query;
  out += '\n';
  out += headers.block;
  out += '\n';
  out += headers.signed_names;
  out += '\n';
  out += payload_hash;
  return out;
}

struct ParsedUrl {
  std::string scheme;     // "https"
  std::string authority;  // "host:port" as written
  std::string host;       // the Host header value: default ports dropped
  std::string path;       // "/..." as written
  QueryParams query;      // decoded
};

Result<ParsedUrl> parse_url(std::string_view url) {
  ParsedUrl parsed;
  // A space or a control character cannot be sent on a request line, and a
  // line break in the host would add a line to the canonical request.
  auto bad = std::find_if(url.begin(), url.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f;
  });
  if (bad != url.end()) {
    return usage_error("URL " + std::string(url.substr(0, bad - url.begin())) +
                       "...: a space or control character follows; percent-encode it (a "
                       "space is %20)");
  }
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return usage_error(std::string(url) + ": not an http(s) URL; write scheme://host/path");
  }
  parsed.scheme = to_lower(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end + 3);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  auto path_start = rest.find_first_of("/?");
  parsed.authority = std::string(rest.substr(0, path_start));
  if (parsed.authority.empty()) {
    return usage_error(std::string(url) + ": no host in the URL; write scheme://host/path");
  }
  rest = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  auto query_start = rest.find('?');
  parsed.path = std::string(rest.substr(0, query_start));
  if (parsed.path.empty()) parsed.path = "/";
  if (query_start != std::string_view::npos) {
    std::string_view query = rest.substr(query_start + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      if (!pair.empty()) {
        auto eq = pair.find('=');
        std::string name = aws_uri_decode(pair.substr(0, eq));
        std::string value =
            eq == std::string_view::npos ? std::string() : aws_uri_decode(pair.substr(eq + 1));
        parsed.query.emplace_back(std::move(name), std::move(value));
      }
      if (amp == std::string_view::npos) break;
      query = query.substr(amp + 1);
    }
  }
  // The HTTP library sends neither user-info nor the scheme's default port
  // in Host, so the signature must not sign them either.
  auto at = parsed.authority.rfind('@');
  parsed.host = at == std::string::npos ? parsed.authority : parsed.authority.substr(at + 1);
  auto strip_port = [&](std::string_view port) {
    if (parsed.host.size() > port.size() &&
        parsed.host.compare(parsed.host.size() - port.size(), port.size(), port) == 0) {
      parsed.host.resize(parsed.host.size() - port.size());
    }
  };
  if (parsed.scheme == "https") strip_port(":443");
  if (parsed.scheme == "http") strip_port(":80");
  return parsed;
}

}  // namespace

SigV4Options SigV4Options::s3(std::string region) {
  SigV4Options options;
  options.region = std::move(region);
  options.service = "s3";
  options.normalize_path = false;
  options.double_encode_path = false;
  options.sign_content_sha256_header = true;
  return options;
}

SigV4Options SigV4Options::for_service(std::string service, std::string region) {
  SigV4Options options;
  options.region = std::move(region);
  options.service = std::move(service);
  return options;
}

SigV4Result sign_sigv4(const SigV4Request& request, const AwsCredentials& credentials,
                       const SigV4Options& options) {
  SigV4Result result;
  Scope scope = make_scope(options);
  result.amz_date = scope.amz_date;
  result.credential_scope = scope.credential_scope;
  result.payload_hash =
      request.payload_hash.empty() ? sha256_hex(request.payload) : request.payload_hash;

  // The headers the signer adds go in before canonicalisation so they are
  // signed; a session token the service wants unsigned is added afterwards.
  HttpHeaders headers;
  for (const auto& header : request.headers) {
    if (equals_ignoring_case(header.first, "x-amz-date") ||
        equals_ignoring_case(header.first, "x-amz-security-token")) {
      continue;
    }
    if (options.sign_content_sha256_header &&
        equals_ignoring_case(header.first, "x-amz-content-sha256")) {
      continue;
    }
    headers.push_back(header);
  }
  result.headers_to_add.emplace_back("X-Amz-Date", result.amz_date);
  if (!credentials.session_token.empty() && !options.omit_session_token) {
    result.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  if (options.sign_content_sha256_header) {
    result.headers_to_add.emplace_back("x-amz-content-sha256", result.payload_hash);
  }
  headers.insert(headers.end(), result.headers_to_add.begin(), result.headers_to_add.end());

  CanonicalHeaders canonical = canonicalize_headers(request.host, headers);
  result.signed_headers = canonical.signed_names;
  result.query_string = wire_query(request.query);
  result.canonical_request = build_canonical_request(
      request, options, canonical_query(request.query), canonical, result.payload_hash);
  finish_signature(result, credentials, options);

  result.authorization = std::string(k_algorithm) + " Credential=" + credentials.access_key_id +
                         "/" + result.credential_scope +
                         ", SignedHeaders=" + result.signed_headers +
                         ", Signature=" + result.signature;
  if (!credentials.session_token.empty() && options.omit_session_token) {
    result.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  result.headers_to_add.emplace_back("Authorization", result.authorization);
  return result;
}

Result<SigV4Result> presign_sigv4(const SigV4Request& request, const AwsCredentials& credentials,
                                  const SigV4Options& options, std::chrono::seconds expires) {
  if (expires < std::chrono::seconds(1) || expires > k_max_presign_expiry) {
    return usage_error("presign: expiry " + std::to_string(expires.count()) +
                       "s is out of range; a presigned URL lives from 1s to 7 days (604800s)");
  }
  SigV4Result result;
  Scope scope = make_scope(options);
  result.amz_date = scope.amz_date;
  result.credential_scope = scope.credential_scope;
  if (!request.payload_hash.empty()) {
    result.payload_hash = request.payload_hash;
  } else if (options.sign_content_sha256_header) {
    // S3 cannot know the body of a presigned request in advance.
    result.payload_hash = std::string(k_unsigned_payload);
  } else {
    result.payload_hash = sha256_hex(request.payload);
  }

  HttpHeaders headers;
  for (const auto& header : request.headers) {
    if (!equals_ignoring_case(header.first, "x-amz-date")) headers.push_back(header);
  }
  CanonicalHeaders canonical = canonicalize_headers(request.host, headers);
  result.signed_headers = canonical.signed_names;

  QueryParams auth_params = {
      {"X-Amz-Algorithm", std::string(k_algorithm)},
      {"X-Amz-Credential", credentials.access_key_id + "/" + result.credential_scope},
      {"X-Amz-Date", result.amz_date},
      {"X-Amz-SignedHeaders", result.signed_headers},
      {"X-Amz-Expires", std::to_string(expires.count())},
  };
  bool token_signed = !credentials.session_token.empty() && !options.omit_session_token;
  if (token_signed) auth_params.emplace_back("X-Amz-Security-Token", credentials.session_token);

  QueryParams signed_params = request.query;
  signed_params.insert(signed_params.end(), auth_params.begin(), auth_params.end());
  result.canonical_request = build_canonical_request(
      request, options, canonical_query(signed_params), canonical, result.payload_hash);
  finish_signature(result, credentials, options);

  QueryParams sent = signed_params;
  if (!credentials.session_token.empty() && options.omit_session_token) {
    sent.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  sent.emplace_back("X-Amz-Signature", result.signature);
  result.query_string = wire_query(sent);
  return result;
}

Result<SigV4Result> sign_http_request(HttpRequest& request, const AwsCredentials& credentials,
                                      const SigV4Options& options, std::string_view payload_hash) {
  auto url = parse_url(request.url);
  if (!url) return url.error();

  // A retried request is signed again: drop what the last signing added.
  auto previous = [&](const std::pair<std::string, std::string>& header) {
    return equals_ignoring_case(header.first, "authorization") ||
           equals_ignoring_case(header.first, "x-amz-date") ||
           equals_ignoring_case(header.first, "x-amz-security-token") ||
           (options.sign_content_sha256_header &&
            equals_ignoring_case(header.first, "x-amz-content-sha256"));
  };
  std::erase_if(request.headers, previous);

  SigV4Request to_sign;
  to_sign.method = request.method;
  to_sign.host = url->host;
  to_sign.path = url->path;
  to_sign.query = url->query;
  to_sign.headers = request.headers;
  to_sign.payload_hash =
      payload_hash.empty() ? sha256_hex(request.body) : std::string(payload_hash);
  SigV4Result signed_request = sign_sigv4(to_sign, credentials, options);
  request.headers.insert(request.headers.end(), signed_request.headers_to_add.begin(),
                         signed_request.headers_to_add.end());
  return signed_request;
}

Result<std::string> presign_url(std::string_view method, std::string_view url,
                                const AwsCredentials& credentials, const SigV4Options& options,
                                std::chrono::seconds expires) {
  auto parsed = parse_url(url);
  if (!parsed) return parsed.error();
  SigV4Request to_sign;
  to_sign.method = std::string(method);
  to_sign.host = parsed->host;
  to_sign.path = parsed->path;
  to_sign.query = parsed->query;
  auto signed_request = presign_sigv4(to_sign, credentials, options, expires);
  if (!signed_request) return signed_request.error();
  return parsed->scheme + "://" + parsed->authority + parsed->path + "?" +
         signed_request->query_string;
}

std::string aws_uri_encode(std::string_view text, bool encode_slash) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (c == '/' && !encode_slash)) {
      out += ch;
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 0x0F];
    }
  }
  return out;
}

std::string aws_uri_decode(std::string_view text) {
  return percent_decode(text);
}

std::string normalize_uri_path(std::string_view path) {
  // RFC 3986 5.2.4 (remove dot segments), plus the duplicate slashes AWS
  // services also remove; the same result as botocore's normalize_url_path.
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    std::string_view segment = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    out += segments[i];
  }
  if (!segments.empty() && !path.empty() && path.back() == '/') out += '/';
  return out;
}

std::string aws_amz_date(SystemTime time) {
  return compact_utc(time);
}

std::optional<SystemTime> parse_iso8601_utc(std::string_view text) {
  // "2015-08-30T12:36:00Z", "2015-08-30T12:36:00.000Z", "2015-08-30T12:36:00+00:00".
  std::tm utc{};
  std::string copy(text);
  const char* end = strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%S", &utc);
  if (end == nullptr) return std::nullopt;
  std::string_view rest(end);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front())) != 0) {
      rest.remove_prefix(1);
    }
  }
  // system_clock counts int64 nanoseconds, which end in April 2262, and
  // strptime reads a year of any length: the fuzz target found from_time_t
  // overflowing. An expiry is well inside 1970-2200.
  if (utc.tm_year + 1900 < 1970 || utc.tm_year + 1900 > 2200) return std::nullopt;
  auto two_digits = [](std::string_view digits) -> std::optional<int> {
    if (digits.size() != 2 || std::isdigit(static_cast<unsigned char>(digits[0])) == 0 ||
        std::isdigit(static_cast<unsigned char>(digits[1])) == 0) {
      return std::nullopt;
    }
    return (digits[0] - '0') * 10 + (digits[1] - '0');
  };
  long offset_seconds = 0;
  if (rest == "Z" || rest == "z" || rest.empty()) {
    offset_seconds = 0;
  } else if ((rest.front() == '+' || rest.front() == '-') && rest.size() == 6 && rest[3] == ':') {
    // Not std::stoi: "+ab:cd" made it throw out of a parser that returns none.
    auto hours = two_digits(rest.substr(1, 2));
    auto minutes = two_digits(rest.substr(4, 2));
    if (!hours || !minutes) return std::nullopt;
    offset_seconds = (*hours * 3600L + *minutes * 60L) * (rest.front() == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  std::time_t seconds = timegm(&utc) - offset_seconds;
  return std::chrono::system_clock::from_time_t(seconds);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &size);
  return std::string(reinterpret_cast<const char*>(out), size);
}

}  // namespace switchyard
