#include "runner/core/secrets.hpp"

#include <algorithm>
#include <mutex>

namespace switchyard {
namespace {

// Guards the secret list; output has its own lock in the CI adapter, so a
// thread masking a line never waits for another thread's write.
std::mutex g_secrets_mutex;

std::vector<std::string>& secrets() {
  static std::vector<std::string> values;
  return values;
}

// Adds `value` to the list; false if it was there already or is too short.
bool add_to_list(std::string_view value) {
  if (value.size() < 4) return false;
  std::lock_guard lock(g_secrets_mutex);
  auto& values = secrets();
  if (std::find(values.begin(), values.end(), value) != values.end()) return false;
  values.emplace_back(value);
  // Longest first, so a secret that contains another is masked whole.
  std::sort(values.begin(), values.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return true;
}

}  // namespace

std::vector<std::string> register_secret(std::string_view secret) {
  std::vector<std::string> added;
  if (add_to_list(secret)) added.emplace_back(secret);
  // Output is printed line by line, so each line of a multi-line secret (a
  // PEM key) is a secret of its own too.
  if (secret.find_first_of("\r\n") == std::string_view::npos) return added;
  std::size_t start = 0;
  while (start < secret.size()) {
    auto end = secret.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = secret.size();
    std::string_view line = secret.substr(start, end - start);
    if (add_to_list(line)) added.emplace_back(line);
    start = end + 1;
  }
  return added;
}

std::string mask_url_userinfo(std::string_view text) {
  std::string out(text);
  for (auto scheme_end = out.find("://"); scheme_end != std::string::npos;
       scheme_end = out.find("://", scheme_end + 3)) {
    auto start = scheme_end + 3;
    // The authority ends where the path, query or fragment starts, or where
    // the URL itself ends in running text or JSON. A password may hold ',',
    // ';' and brackets, so those do not end it.
    auto end = out.find_first_of("/?#\\ \t\r\n\"'<>`", start);
    if (end == std::string::npos) end = out.size();
    auto at = out.rfind('@', end == 0 ? 0 : end - 1);
    if (at == std::string::npos || at < start) continue;
    if (out.compare(start, at - start, "***") == 0) continue;
    out.replace(start, at - start, "***");
  }
  return out;
}

std::string mask_secrets(std::string_view text) {
  std::string out = mask_url_userinfo(text);
  std::lock_guard lock(g_secrets_mutex);
  for (const auto& secret : secrets()) {
    for (auto at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 3)) {
      out.replace(at, secret.size(), "***");
    }
  }
  return out;
}

}  // namespace switchyard
