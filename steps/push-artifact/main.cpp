// switchyard-push-artifact: store a built artifact and its manifest.
#include "steps/push-artifact/push_artifact.hpp"

int main(int argc, char** argv) {
  return switchyard::steps::push_artifact::run(argc, argv);
}
