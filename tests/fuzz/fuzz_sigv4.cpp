// SigV4's canonicalisation of what a user or a store hands the signer: the
// URL (scheme, host, port, path, query string with its percent-encoding) and
// header names and values. Signing and presigning never crash; URI encoding
// round-trips; path normalisation is idempotent; the canonical request has
// exactly one line per signed header (no value can smuggle in a line break).
//
// Input: the URL, then "\n%%\n", the method, then "\n%%\n", header lines
// (Name: value).
#include <algorithm>

#include "runner/aws/sigv4.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace switchyard;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = fuzz::fields(data, size, 3);
  const std::string& url = parts[0];

  for (bool slash : {false, true}) {
    FUZZ_CHECK(aws_uri_decode(aws_uri_encode(url, slash)) == url, url);
  }
  (void)aws_uri_decode(url);
  std::string normalized = normalize_uri_path(url);
  FUZZ_CHECK(normalize_uri_path(normalized) == normalized, url + " -> " + normalized);

  AwsCredentials credentials;
  credentials.access_key_id = "AKIDEXAMPLE";
  credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  credentials.session_token = "session-token";
  for (auto options :
       {SigV4Options::s3("us-east-1"), SigV4Options::for_service("service", "us-east-1")}) {
    options.time = parse_iso8601_utc("2015-08-30T12:36:00Z");
    HttpRequest request;
    // The method is ours, never outside input: one word.
    auto method = fuzz::lines(parts[1]);
    request.method = method.empty() || method[0].empty() ? "GET" : method[0];
    request.url = url;
    std::size_t headers = 0;
    for (const auto& line : fuzz::lines(parts[2])) {
      auto colon = line.find(':');
      // The names given to the signer are switchyard's own (x-amz-*, range,
      // content-type), never outside input: HTTP tokens only. (A ';' in a
      // name made the names list ambiguous, a harness false alarm.)
      std::string name = line.substr(0, colon);
      if (colon == std::string::npos || colon == 0 ||
          name.find_first_not_of(
              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
              std::string::npos) {
        continue;
      }
      request.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
      ++headers;
    }
    auto signed_request = sign_http_request(request, credentials, options);
    if (signed_request) {
      const std::string& canonical = signed_request->canonical_request;
      auto names = std::count(signed_request->signed_headers.begin(),
                              signed_request->signed_headers.end(), ';') +
                   1;
      // method, path, query, one line per header, blank, names, hash
      auto lines = std::count(canonical.begin(), canonical.end(), '\n') + 1;
      FUZZ_CHECK(lines == names + 6, canonical);
      FUZZ_CHECK(signed_request->signature.size() == 64, signed_request->signature);
    } else {
      FUZZ_CHECK(signed_request.error().code == ExitCode::Usage, signed_request.error().message);
    }
    (void)presign_url(request.method, url, credentials, options, std::chrono::seconds(3600));
  }
  return 0;
}
