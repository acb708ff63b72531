#include "runner/deploy/shell_quote.hpp"

namespace switchyard {

std::string shell_quote(std::string_view value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += "'";
  return quoted;
}

std::string shell_command(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& word : argv)
    line += (line.empty() ? "" : " ") + shell_quote(word);
  return line;
}

}  // namespace switchyard
