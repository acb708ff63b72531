#include "runner/util/interrupt.hpp"

#include <atomic>
#include <csignal>

namespace switchyard {
namespace {

std::atomic<bool> g_interrupted{false};

void on_interrupt(int /*signal*/) {
  g_interrupted.store(true);
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool interrupted() {
  return g_interrupted.load();
}

}  // namespace switchyard
