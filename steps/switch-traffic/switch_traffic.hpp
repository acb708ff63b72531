// switchyard-switch-traffic: the zero-downtime deploy of one artifact on this
// host (runner/host/switch.hpp does the work).
#pragma once

namespace switchyard::steps::switch_traffic {

// The executable: `return switchyard::steps::switch_traffic::run(argc, argv);`.
int run(int argc, char** argv);

}  // namespace switchyard::steps::switch_traffic
