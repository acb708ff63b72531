#include "runner/host/slots_supervisor.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "runner/host/state.hpp"
#include "runner/util/atomic_file.hpp"
#include "runner/util/process.hpp"

namespace switchyard {
namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_armed = 0;
volatile std::sig_atomic_t g_stop_signal = 0;

void on_arm(int) {
  g_armed = 1;
}
void on_disarm(int) {
  g_armed = 0;
}
void on_stop(int signal_number) {
  g_stop_signal = signal_number;
}

void install(int signal_number, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  // No SA_RESTART: a stop signal must wake the supervisor from waitpid.
  action.sa_flags = 0;
  ::sigaction(signal_number, &action, nullptr);
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    int number = WTERMSIG(status);
    const char* name = ::strsignal(number);
    return "signal " + std::to_string(number) + (name ? std::string(" (") + name + ")" : "");
  }
  return "exit " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int exit_code_of(int status) {
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

void write_status(const fs::path& file, const SupervisorStatus& status) {
  boost::json::object object;
  object["armed"] = status.armed;
  object["restarts"] = status.restarts;
  object["service_pid"] = status.service_pid;
  object["last_exit"] = status.last_exit;
  object["last_exit_at"] = status.last_exit_at;
  if (auto written = write_file_atomically(file, boost::json::serialize(object) + "\n", 0644);
      !written) {
    std::cerr << "switchyard supervisor: " << written.error().message << "\n";
  }
}

// Starts the service as a child in the supervisor's process group, with the
// signals a service expects back at their defaults; its pid, or -1.
pid_t start_service(const std::vector<std::string>& service) {
  std::vector<char*> argv;
  for (const auto& argument : service)
    argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  pid_t child = ::fork();
  if (child == 0) {
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int number : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2})
      ::sigaction(number, &default_action, nullptr);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "switchyard supervisor: %s: cannot start: %s\n", argv[0],
                 std::strerror(errno));
    ::_exit(127);
  }
  return child;
}

// Sleeps `delay`, or less when a stop signal arrives.
void sleep_unless_stopped(Duration delay) {
  auto until = std::chrono::steady_clock::now() + delay;
  while (g_stop_signal == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace

fs::path supervisor_status_file(const fs::path& log_file) {
  auto file = log_file;
  return file.replace_extension(".supervisor.json");
}

std::optional<SupervisorStatus> read_supervisor_status(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::json::error_code error;
  auto value = boost::json::parse(text, error);
  if (error || !value.is_object()) return std::nullopt;
  const auto& object = value.as_object();
  SupervisorStatus status;
  if (auto* armed = object.if_contains("armed"); armed && armed->is_bool())
    status.armed = armed->as_bool();
  if (auto* restarts = object.if_contains("restarts"); restarts && restarts->is_int64())
    status.restarts = static_cast<int>(restarts->as_int64());
  if (auto* pid = object.if_contains("service_pid"); pid && pid->is_int64())
    status.service_pid = static_cast<pid_t>(pid->as_int64());
  if (auto* last = object.if_contains("last_exit"); last && last->is_string())
    status.last_exit = std::string(last->as_string());
  if (auto* at = object.if_contains("last_exit_at"); at && at->is_string())
    status.last_exit_at = std::string(at->as_string());
  return status;
}

std::optional<std::vector<std::string>> supervised_command(const std::vector<std::string>& service,
                                                           const fs::path& status_file) {
  std::error_code error;
  auto self = fs::read_symlink("/proc/self/exe", error);
  // The switchyard command beside this step's executable, else in PATH.
  fs::path command = error ? fs::path() : self.parent_path() / "switchyard";
  if (command.empty() || ::access(command.c_str(), X_OK) != 0) command = find_program("switchyard");
  if (command.empty()) return std::nullopt;
  std::vector<std::string> argv = {command.string(), std::string(k_supervise_command),
                                   "--status-file", status_file.string(), "--"};
  argv.insert(argv.end(), service.begin(), service.end());
  return argv;
}

bool is_slot_supervisor(pid_t pid) {
  if (pid <= 1) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string program;
  std::string subcommand;
  if (!std::getline(in, program, '\0') || !std::getline(in, subcommand, '\0')) return false;
  return fs::path(program).filename() == "switchyard" && subcommand == k_supervise_command;
}

Duration restart_backoff(int restart) {
  using namespace std::chrono_literals;
  Duration delay = 200ms;
  for (int i = 1; i < restart && delay < 30s; ++i)
    delay *= 2;
  return std::min<Duration>(delay, 30s);
}

int supervise_slot(const std::vector<std::string>& service, const fs::path& status_file) {
  using namespace std::chrono_literals;
  // Handlers first: a deploy may arm the supervisor as soon as it is healthy.
  install(SIGUSR1, on_arm);
  install(SIGUSR2, on_disarm);
  for (int number : {SIGTERM, SIGINT, SIGHUP})
    install(number, on_stop);

  SupervisorStatus status;
  int restarts_in_a_row = 0;
  for (;;) {
    auto started_at = std::chrono::steady_clock::now();
    pid_t child = start_service(service);
    if (child < 0) {
      std::cerr << "switchyard supervisor: " << service.front()
                << ": cannot start: " << std::strerror(errno) << "\n";
      return 1;
    }
    status.service_pid = child;
    status.armed = g_armed != 0;
    write_status(status_file, status);

    int wait_status = 0;
    bool forwarded = false;
    while (::waitpid(child, &wait_status, 0) < 0) {
      if (errno != EINTR) return 1;
      // Armed or disarmed meanwhile: `switchyard status` shows which.
      if ((g_armed != 0) != status.armed) {
        status.armed = g_armed != 0;
        write_status(status_file, status);
      }
      // A stop signal sent to the supervisor alone (not its group) still
      // reaches the service.
      if (g_stop_signal != 0 && !forwarded) {
        ::kill(child, g_stop_signal);
        forwarded = true;
      }
    }
    if (g_stop_signal != 0 || g_armed == 0) {
      // Stopped on purpose, or not live (a starting slot whose deploy must
      // see it exit, a draining one): end with the service.
      status.service_pid = 0;
      status.last_exit = describe_exit(wait_status);
      status.last_exit_at = utc_now();
      status.armed = false;
      write_status(status_file, status);
      return exit_code_of(wait_status);
    }

    // The live slot's service died: bring it back, waiting longer each time
    // it dies again soon after a restart.
    restarts_in_a_row =
        std::chrono::steady_clock::now() - started_at > 60s ? 1 : restarts_in_a_row + 1;
    ++status.restarts;
    status.service_pid = 0;
    status.last_exit = describe_exit(wait_status);
    status.last_exit_at = utc_now();
    status.armed = true;
    write_status(status_file, status);
    auto delay = restart_backoff(restarts_in_a_row);
    std::cerr << "switchyard supervisor: " << service.front() << " (pid " << child
              << ") ended with " << status.last_exit << "; restarting it in "
              << format_duration(delay) << " (restart " << status.restarts << ")" << std::endl;
    sleep_unless_stopped(delay);
    if (g_stop_signal != 0) return exit_code_of(wait_status);
  }
}

}  // namespace switchyard
