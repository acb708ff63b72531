// TEMPORARY: lets the skeleton link until process.cpp, config.cpp and http.cpp
// land. Whoever lands one of those deletes its part here.
#include "runner/config.hpp"
#include "runner/http.hpp"
#include "runner/process.hpp"

namespace switchyard {
Result<ProcessOutcome> run_process(const ProcessSpec&, const LineHandler&) {
  return unavailable("run_process: not implemented yet");
}
std::filesystem::path find_program(std::string_view) {
  return {};
}
Result<Config> Config::load(const ConfigLoadOptions&) {
  return Config();
}
}  // namespace switchyard
