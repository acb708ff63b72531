#include "runner/cli/dispatch.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <vector>

#include "runner/cli/host_commands.hpp"
#include "runner/cli/init.hpp"
#include "runner/cli/pipeline.hpp"
#include "runner/cli/step.hpp"
#include "runner/host/slots_supervisor.hpp"
#include "runner/util/file_descriptor.hpp"
#include "runner/util/process.hpp"
#include "runner/util/result.hpp"

namespace switchyard {
namespace {

constexpr const char* k_usage =
    "usage: switchyard <command> [options]\n"
    "\n"
    "The pipeline:\n"
    "  run              build, store, deploy and verify, as switchyard.yml says\n"
    "  init             write a starter switchyard.yml, workflow, Jenkinsfile and nginx snippet\n"
    "\n"
    "Steps (each is also installed as switchyard-<step>):\n"
    "  build-jar        build the service and write its artifact manifest\n"
    "  push-artifact    store the artifact (file:// or s3://)\n"
    "  verify-health    wait until URLs answer healthy\n"
    "  request-deploy   ask the hosts to deploy (local or ssh), rolling, with rollback\n"
    "  switch-traffic   on a host: start the idle slot, gate on health, switch nginx\n"
    "  rollback         on a host: go back to a kept release\n"
    "\n"
    "Host commands:\n"
    "  status           on a host: the live version, port, pid, uptime and health\n"
    "  restore          on a host: start the live release again after a reboot\n"
    "\n"
    "Run 'switchyard <command> --help' for a command's options.\n";

}  // namespace

int switchyard_main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << k_usage;
    return static_cast<int>(ExitCode::Usage);
  }
  std::string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << k_usage << "\n" << k_exit_codes_help;
    return 0;
  }
  if (command == "--version" || command.starts_with("--version=")) {
    if (argc != 2 || command != "--version") {
      std::cerr << version_not_alone_message("switchyard") << "\n";
      return static_cast<int>(ExitCode::Usage);
    }
    std::cout << "switchyard " << SWITCHYARD_VERSION << "\n";
    return 0;
  }
  if (command == "run") return pipeline::run_main(argc - 1, argv + 1);
  if (command == "init") return init_main(argc - 1, argv + 1);
  // The runner's own host subcommands, before any step executable.
  if (command == "status") return status_main(argc - 1, argv + 1);
  if (command == "restore") return restore_main(argc - 1, argv + 1);
  // Not listed in the usage: switch-traffic runs it detached (target.keep_warm).
  if (command == "expire-warm") return expire_warm_main(argc - 1, argv + 1);
  // Nor this: the parent of a process-mode slot's service (host/slots_supervisor).
  if (command == k_supervise_command) return supervise_slot_main(argc - 1, argv + 1);
  auto executable = step_executable(command, self_directory());
  if (executable.empty() || command.find('/') != std::string_view::npos) {
    std::cerr << "switchyard: '" << command
              << "' is not a switchyard command; see 'switchyard --help'\n";
    return static_cast<int>(ExitCode::Usage);
  }
  std::vector<char*> arguments;
  std::string path = executable.string();
  arguments.push_back(path.data());
  for (int i = 2; i < argc; ++i)
    arguments.push_back(argv[i]);
  arguments.push_back(nullptr);
  ::execv(path.c_str(), arguments.data());
  std::cerr << "switchyard: " << path << ": cannot run (" << errno_text()
            << "); reinstall switchyard\n";
  return static_cast<int>(ExitCode::Unavailable);
}

}  // namespace switchyard
