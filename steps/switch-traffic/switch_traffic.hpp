// switchyard-switch-traffic: the zero-downtime deploy of one artifact on this
// host (runner/switch.hpp does the work).
#pragma once

namespace switchyard {

int switch_traffic_main(int argc, char** argv);

}  // namespace switchyard
