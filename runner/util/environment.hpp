// The process environment, read as a map so that code which depends on it can
// be handed another one in tests.
#pragma once

#include <map>
#include <string>

namespace switchyard {

// The process environment as a map (what detect_ci and Config read).
std::map<std::string, std::string> current_environment();

// The value of variable `name` in `environment`, or "" when it is not set.
std::string environment_value(const std::map<std::string, std::string>& environment,
                              const std::string& name);

}  // namespace switchyard
