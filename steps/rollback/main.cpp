// switchyard-rollback: go back to the previous release or any kept one.
#include "steps/rollback/rollback.hpp"

int main(int argc, char** argv) {
  return switchyard::steps::rollback::run(argc, argv);
}
