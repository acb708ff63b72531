#include "steps/request-deploy/request_deploy.hpp"

int main(int argc, char** argv) {
  return switchyard::request_deploy_main(argc, argv);
}
