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

std::string mask_secrets(std::string_view text) {
  std::string out(text);
  std::lock_guard lock(g_secrets_mutex);
  for (const auto& secret : secrets()) {
    for (auto at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 3)) {
      out.replace(at, secret.size(), "***");
    }
  }
  return out;
}

}  // namespace switchyard
