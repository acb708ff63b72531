// The host's state.json and history.jsonl, which a crash, a full disk or a
// person with an editor may have damaged: reading never crashes; a state that
// reads back never names a pid that no slot can have (a rollback would
// signal it) and holds each port once, in order; state and history records
// write back to what reads back the same.
//
// Input: state.json, then "\n%%\n", then history.jsonl.
#include <boost/json.hpp>

#include "runner/host/state.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace json = boost::json;
using namespace switchyard;

namespace {

void check_state(const std::string& text) {
  json::error_code error;
  auto value = json::parse(text, error);
  if (error) return;
  auto state = state_from_json(value, "state.json");
  if (!state) {
    FUZZ_CHECK(state.error().code == ExitCode::Usage, state.error().message);
    return;
  }
  int previous_port = 0;
  for (const auto& slot : state->slots) {
    FUZZ_CHECK(slot.pid == 0 || (slot.pid > 1 && slot.pid <= 4'194'304), std::to_string(slot.pid));
    FUZZ_CHECK(slot.port > previous_port && slot.port <= 65535, std::to_string(slot.port));
    previous_port = slot.port;
  }
  std::string written = json::serialize(state_to_json(*state));
  auto again = state_from_json(json::parse(written), "rewritten");
  FUZZ_CHECK(again.ok(), again ? written : again.error().message);
  FUZZ_CHECK(json::serialize(state_to_json(*again)) == written, written);
}

void check_history(const std::string& text) {
  for (const auto& line : fuzz::lines(text)) {
    json::error_code error;
    auto value = json::parse(line, error);
    if (error || !value.is_object()) continue;
    auto record = history_from_json(value.as_object());
    std::string written = json::serialize(history_to_json(record));
    auto again = history_from_json(json::parse(written).as_object());
    FUZZ_CHECK(json::serialize(history_to_json(again)) == written, written);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = fuzz::fields(data, size, 2);
  check_state(parts[0]);
  check_history(parts[1]);
  return 0;
}
