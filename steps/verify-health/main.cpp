#include "steps/verify-health/verify_health.hpp"

int main(int argc, char** argv) {
  return switchyard::steps::verify_health::run(argc, argv);
}
