#include "steps/rollback/rollback.hpp"

int main(int argc, char** argv) {
  return switchyard::rollback_main(argc, argv);
}
