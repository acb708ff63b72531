// switchyard-request-deploy: ask the hosts to deploy a release, and see it through.
#include "steps/request-deploy/request_deploy.hpp"

int main(int argc, char** argv) {
  return switchyard::steps::request_deploy::run(argc, argv);
}
