#include "runner/cli/dispatch.hpp"

int main(int argc, char** argv) {
  return switchyard::switchyard_main(argc, argv);
}
