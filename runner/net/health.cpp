#include "runner/net/health.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "runner/util/interrupt.hpp"
#include "runner/util/strings.hpp"

namespace switchyard {
namespace {

using Clock = std::chrono::steady_clock;

// The last body is kept for the failure report; a whole error page would
// drown the reasons.
constexpr std::size_t k_body_limit = 2048;

std::string cut_body(std::string_view body) {
  if (body.size() <= k_body_limit) return std::string(body);
  std::size_t end = k_body_limit;
  // Do not split a UTF-8 sequence: back up over continuation bytes.
  while (end > 0 && (static_cast<unsigned char>(body[end]) & 0xC0) == 0x80)
    --end;
  return std::string(body.substr(0, end)) + "...";
}

// A scalar as a person writes it: strings bare, 1.5 rather than Boost's 1.5E0.
std::string scalar_text(const boost::json::value& value) {
  if (value.is_string()) return std::string(value.as_string());
  if (value.is_double()) {
    char buffer[32];
    auto end = std::to_chars(buffer, buffer + sizeof buffer, value.as_double()).ptr;
    return std::string(buffer, end);
  }
  return boost::json::serialize(value);
}

// Splits `path` into keys: "/a/b~1c" (a JSON pointer, with ~1 for '/' and ~0
// for '~') or "a.b.c" (dotted).
std::vector<std::string> path_keys(std::string_view path) {
  std::vector<std::string> keys;
  if (path.empty()) return keys;
  bool pointer = path.front() == '/';
  char separator = pointer ? '/' : '.';
  if (pointer) path.remove_prefix(1);
  std::size_t start = 0;
  while (true) {
    std::size_t end = path.find(separator, start);
    std::string key(path.substr(start, end == std::string_view::npos ? end : end - start));
    if (pointer) {
      for (std::size_t at = key.find("~1"); at != std::string::npos; at = key.find("~1", at + 1)) {
        key.replace(at, 2, "/");
      }
      for (std::size_t at = key.find("~0"); at != std::string::npos; at = key.find("~0", at + 1)) {
        key.replace(at, 2, "~");
      }
    }
    keys.push_back(std::move(key));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return keys;
}

std::optional<boost::json::value> parse_json(std::string_view body) {
  boost::system::error_code error;
  auto value = boost::json::parse(body, error);
  if (error) return std::nullopt;
  return value;
}

// The Spring Boot health status of a body ("UP", "DOWN", ...), or "".
std::string spring_status(const boost::json::value& body) {
  const auto* object = body.if_object();
  if (object == nullptr) return "";
  const auto* status = object->if_contains("status");
  if (status == nullptr || !status->is_string()) return "";
  return std::string(status->as_string());
}

void collect_down(const boost::json::object& node, const std::string& prefix,
                  std::vector<std::string>& out) {
  // Spring Boot 2.2+ calls them "components"; 2.0 and 2.1 called them "details".
  const boost::json::value* children = node.if_contains("components");
  if (children == nullptr || !children->is_object()) children = node.if_contains("details");
  if (children == nullptr || !children->is_object()) return;
  for (const auto& [name, child] : children->as_object()) {
    const auto* child_object = child.if_object();
    if (child_object == nullptr) continue;
    std::string status = spring_status(child);
    if (status.empty() || status == "UP" || status == "UNKNOWN") continue;
    std::string full = prefix.empty() ? std::string(name) : prefix + "." + std::string(name);
    std::size_t before = out.size();
    collect_down(*child_object, full, out);
    if (out.size() == before) out.push_back(full);
  }
}

// " (down: db, diskSpace)" naming the components of `body` that are not UP,
// or "" when there are none.
std::string down_suffix(const boost::json::value& body) {
  auto down = down_components(body);
  if (down.empty()) return "";
  std::string text = " (down: ";
  for (std::size_t i = 0; i < down.size(); ++i)
    text += (i > 0 ? ", " : "") + down[i];
  return text + ")";
}

std::string status_reason(const HealthExpectation& expect, const HttpResponse& response,
                          const std::optional<boost::json::value>& body) {
  bool matches = expect.status ? response.status == *expect.status
                               : response.status >= 200 && response.status < 300;
  if (matches) return "";
  if (body) {
    std::string status = spring_status(*body);
    if (!status.empty() && status != "UP") return "status " + status + down_suffix(*body);
  }
  std::string wanted = expect.status ? std::to_string(*expect.status) : "2xx";
  return "wrong status " + std::to_string(response.status) + " (expected " + wanted + ")";
}

std::string json_reason(const HealthExpectation& expect,
                        const std::optional<boost::json::value>& body) {
  for (const auto& [path, wanted] : expect.json) {
    if (!body) return "body is not JSON (expected " + path + "=" + wanted + ")";
    auto found = json_text_at(*body, path);
    if (!found) return "JSON " + path + " missing (expected " + wanted + ")";
    if (*found == wanted) continue;
    std::string reason = "JSON mismatch " + path + "=" + *found + " expected " + wanted;
    if (spring_status(*body) != "UP") reason += down_suffix(*body);
    return reason;
  }
  return "";
}

std::string version_reason(const HealthExpectation& expect, const HttpResponse& response,
                           const std::optional<boost::json::value>& body) {
  if (expect.version.empty()) return "";
  std::string seen = response.header("X-App-Version");
  if (seen.empty() && body && body->is_object()) {
    if (const auto* field = body->as_object().if_contains("version")) seen = scalar_text(*field);
  }
  if (seen.empty()) {
    return "no version in the answer (expected " + expect.version +
           "; no X-App-Version header or version field)";
  }
  if (seen == expect.version) return "";
  return "version " + seen + " expected " + expect.version;
}

// What a person should check when a probe failed this way.
std::string transport_hint(TransportFailure failure) {
  switch (failure) {
    case TransportFailure::ConnectionRefused:
      return "is the service running and listening on that port?";
    case TransportFailure::Timeout:
      return "the service did not answer in time; is it stuck or overloaded?";
    case TransportFailure::Tls:
      return "trust its certificate with --cacert FILE, or skip verification with --insecure";
    case TransportFailure::Resolve:
      return "check the host name in the URL";
    default:
      return "check that the URL points at the service";
  }
}

struct Probe {
  bool healthy = false;
  bool cut_timeout = false;  // timed out only because the deadline was near
  long status = 0;
  std::string body;
  std::string reason;
  std::string hint;
};

Probe probe(const HealthCheck& check, const std::string& url, Duration request_timeout) {
  HttpRequest request;
  request.url = url;
  request.headers = check.headers;
  request.timeout = request_timeout;
  request.connect_timeout = request_timeout;
  request.tls = check.tls;
  auto outcome = http_send(request);
  Probe result;
  if (!outcome.response) {
    result.reason = outcome.failure_text;
    result.hint = transport_hint(outcome.failure);
    result.cut_timeout =
        outcome.failure == TransportFailure::Timeout && request_timeout < check.request_timeout;
    return result;
  }
  result.status = outcome.response->status;
  result.body = cut_body(outcome.response->body);
  result.reason = unhealthy_reason(check.expect, *outcome.response);
  result.healthy = result.reason.empty();
  if (!result.healthy) {
    result.hint =
        result.reason.rfind("version ", 0) == 0 || result.reason.rfind("no version", 0) == 0
            ? "another version is answering; check that the deploy reached this URL"
            : "check the service's log";
  }
  return result;
}

void record_failure(UrlReport& report, const Probe& result) {
  report.last_reason = result.reason;
  report.hint = result.hint;
  auto it = std::find(report.reasons.begin(), report.reasons.end(), result.reason);
  if (it == report.reasons.end()) {
    report.reasons.push_back(result.reason);
    report.reason_counts.push_back(1);
  } else {
    ++report.reason_counts[static_cast<std::size_t>(it - report.reasons.begin())];
  }
}

// Sleeps until `until`, or less when a stop is requested.
void sleep_until(const std::stop_token& stop, Clock::time_point until) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  wake.wait_until(lock, stop, until, [] { return false; });
}

Duration since(Clock::time_point start, Clock::time_point now) {
  return std::chrono::duration_cast<Duration>(now - start);
}

// Probes one URL until it is healthy, the deadline passes or a stop is requested.
void watch_url(const HealthCheck& check, Clock::time_point start, Clock::time_point deadline,
               const std::stop_token& stop, UrlReport& report) {
  int consecutive = 0;
  std::string previous_reason = "(none yet)";
  while (true) {
    auto probe_start = Clock::now();
    // The first probe always happens, even with a deadline already past.
    auto left = std::chrono::duration_cast<Duration>(deadline - probe_start);
    if (report.attempts > 0 && left.count() <= 0) break;
    Duration request_timeout = std::clamp(left, Duration(1), check.request_timeout);
    Probe result = probe(check, report.url, request_timeout);
    // A probe cut short by the deadline says nothing new about the service.
    if (result.cut_timeout && report.attempts > 0) break;
    ++report.attempts;
    if (result.status != 0) {
      report.last_status = result.status;
      report.last_body = result.body;
    }
    if (result.healthy) {
      if (++consecutive >= std::max(check.successes, 1)) {
        report.healthy = true;
        report.last_reason.clear();
        report.hint.clear();
        report.waited = since(start, Clock::now());
        if (check.on_change) check.on_change(report.url, report.attempts, "");
        return;
      }
    } else {
      consecutive = 0;
      record_failure(report, result);
      if (check.on_change && result.reason != previous_reason) {
        check.on_change(report.url, report.attempts, result.reason);
      }
      previous_reason = result.reason;
    }
    if (stop.stop_requested()) break;
    sleep_until(stop, std::min(probe_start + std::max(check.interval, Duration(1)), deadline));
    if (stop.stop_requested()) break;
  }
  // Unless stopped early, the loop ends only at the deadline (a probe cut
  // short by it may return a moment before).
  report.waited =
      stop.stop_requested() ? since(start, std::min(Clock::now(), deadline)) : check.timeout;
}

}  // namespace

std::optional<std::string> json_text_at(const boost::json::value& root, std::string_view path) {
  const boost::json::value* node = &root;
  for (const auto& key : path_keys(path)) {
    if (const auto* object = node->if_object()) {
      node = object->if_contains(key);
    } else if (const auto* array = node->if_array()) {
      // An index past what size_t holds names no element, like any other
      // index past the end (std::stoul threw on it: found by fuzz_health).
      std::size_t index = 0;
      auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), index);
      if (key.empty() || error != std::errc() || end != key.data() + key.size()) return {};
      node = index < array->size() ? &(*array)[index] : nullptr;
    } else {
      return {};
    }
    if (node == nullptr) return {};
  }
  return scalar_text(*node);
}

std::vector<std::string> down_components(const boost::json::value& body) {
  std::vector<std::string> out;
  if (const auto* object = body.if_object()) collect_down(*object, "", out);
  return out;
}

std::string unhealthy_reason(const HealthExpectation& expect, const HttpResponse& response) {
  std::optional<boost::json::value> body = parse_json(response.body);
  std::string reason = status_reason(expect, response, body);
  if (reason.empty()) reason = json_reason(expect, body);
  if (reason.empty()) reason = version_reason(expect, response, body);
  return one_line(reason);
}

std::string HealthReport::summary() const {
  std::string out;
  for (const auto& report : urls) {
    if (report.healthy) continue;
    if (!out.empty()) out += "\n";
    out += report.url + ": not healthy after " + format_duration(report.waited);
    if (gave_up) out += " (stopped early)";
    if (!report.last_reason.empty()) out += ": " + report.last_reason;
    if (!gave_up && !report.hint.empty()) out += "; " + report.hint;
  }
  return out;
}

HealthReport wait_healthy(const HealthCheck& check) {
  auto start = Clock::now();
  auto deadline = start + check.timeout;
  HealthReport report;
  report.urls.resize(check.urls.size());
  std::stop_source stop;
  std::mutex mutex;
  std::condition_variable finished;
  std::size_t running = check.urls.size();

  std::vector<std::jthread> workers;
  for (std::size_t i = 0; i < check.urls.size(); ++i) {
    report.urls[i].url = check.urls[i];
    workers.emplace_back([&, i] {
      watch_url(check, start, deadline, stop.get_token(), report.urls[i]);
      std::lock_guard lock(mutex);
      --running;
      finished.notify_all();
    });
  }

  // Between probes, ask whether waiting still makes sense.
  Duration poll = std::clamp(check.interval, Duration(10), Duration(250));
  {
    std::unique_lock lock(mutex);
    while (running > 0) {
      if (finished.wait_for(lock, poll, [&] { return running == 0; })) break;
      lock.unlock();
      bool stop_now = interrupted() || (check.give_up && check.give_up());
      lock.lock();
      if (stop_now && !stop.stop_requested()) {
        report.gave_up = true;
        stop.request_stop();
      }
    }
  }
  workers.clear();

  report.healthy = !report.urls.empty() && std::all_of(report.urls.begin(), report.urls.end(),
                                                       [](const auto& u) { return u.healthy; });
  return report;
}

}  // namespace switchyard
