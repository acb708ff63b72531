// Health answers: a body from the service (Spring Boot's actuator JSON, or
// anything), checked against expect_json paths (dotted or JSON pointer), an
// expected status and version. Judging never crashes, a healthy verdict is an
// empty reason, and a reason is one line.
//
// Input: the body, then "\n%%\n", expect_json lines (PATH=VALUE), then
// "\n%%\n", the status code and the expected version on two lines.
#include <boost/json.hpp>

#include "runner/net/health.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace switchyard;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = fuzz::fields(data, size, 3);
  HttpResponse response;
  response.body = parts[0];
  response.status = 200;
  HealthExpectation expect;
  for (const auto& line : fuzz::lines(parts[1])) {
    auto equals = line.find('=');
    if (equals == std::string::npos) continue;
    expect.json.emplace_back(line.substr(0, equals), line.substr(equals + 1));
  }
  auto settings = fuzz::lines(parts[2]);
  if (!settings.empty() && !settings[0].empty() && settings[0].size() <= 4 &&
      settings[0].find_first_not_of("0123456789") == std::string::npos) {
    response.status = std::stol(settings[0]);
  }
  if (settings.size() > 1) {
    expect.version = settings[1];
    response.headers.emplace_back("X-App-Version", settings[1]);
  }

  boost::json::error_code error;
  auto body = boost::json::parse(response.body, error);
  if (!error) {
    for (const auto& [path, value] : expect.json)
      (void)json_text_at(body, path);
    (void)down_components(body);
  }
  std::string reason = unhealthy_reason(expect, response);
  FUZZ_CHECK(reason.find('\n') == std::string::npos, reason);
  expect.status = response.status;
  (void)unhealthy_reason(expect, response);
  return 0;
}
