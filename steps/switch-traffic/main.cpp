#include "steps/switch-traffic/switch_traffic.hpp"

int main(int argc, char** argv) {
  return switchyard::switch_traffic_main(argc, argv);
}
