// switchyard-build-jar: build the service and write its artifact manifest.
#include "steps/build-jar/options.hpp"

int main(int argc, char** argv) {
  return switchyard::steps::build_jar::run(argc, argv);
}
