// switchyard-request-deploy: ask the hosts to deploy (runner/deploy does the
// work): --via local or ssh, rolling, with rollback across hosts, or --via
// codedeploy through AWS CodeDeploy; also --rollback, --status, and the host
// agent (--agent, run by itself over ssh).
#pragma once

namespace switchyard::steps::request_deploy {

int run(int argc, char** argv);

}  // namespace switchyard::steps::request_deploy
