// switchyard-request-deploy: ask the hosts to deploy (runner/deploy does the
// work): --via local or ssh, rolling, with rollback across hosts; also
// --rollback, --status, and the host agent (--agent, run by itself over ssh).
#pragma once

namespace switchyard {

int request_deploy_main(int argc, char** argv);

}  // namespace switchyard
