#include "steps/verify-health/verify_health.hpp"

int main(int argc, char** argv) {
  return switchyard::verify_health_main(argc, argv);
}
