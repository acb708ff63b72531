// switchyard-switch-traffic: deploy an artifact on this host with zero downtime.
#include "steps/switch-traffic/switch_traffic.hpp"

int main(int argc, char** argv) {
  return switchyard::steps::switch_traffic::run(argc, argv);
}
