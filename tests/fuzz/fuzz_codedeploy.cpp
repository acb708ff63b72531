// CodeDeploy's JSON 1.1 answers: GetDeployment's deploymentInfo,
// BatchGetDeploymentTargets' deploymentTargets, GetDeploymentGroup's
// deploymentGroupInfo, and error answers (the body's __type and message, or
// the x-amzn-ErrorType header). Input: the body, then the header after a
// line %%. Their text reaches the log and the step's one-line error, so
// besides "does not crash": every field but a log tail is one line, an error
// is one line that names the call, and the step's `instances` output has one
// line per instance.
#include <boost/json.hpp>

#include <algorithm>

#include "runner/aws/codedeploy.hpp"
#include "runner/deploy/codedeploy.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace switchyard;
namespace json = boost::json;

namespace {

bool has_control(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

void check_one_line(const std::string& text) {
  FUZZ_CHECK(!has_control(text), text);
}

void check_info(const DeploymentInfo& info) {
  for (const auto* text :
       {&info.deployment_id, &info.status, &info.error_code, &info.error_message,
        &info.rollback_deployment_id, &info.rollback_triggering_id, &info.rollback_message}) {
    check_one_line(*text);
  }
}

void check_target(const DeploymentTargetInfo& target) {
  for (const auto* text : {&target.target_id, &target.target_arn, &target.status})
    check_one_line(*text);
  for (const auto& event : target.lifecycle_events) {
    for (const auto* text :
         {&event.name, &event.status, &event.error_code, &event.script_name, &event.message}) {
      check_one_line(*text);
    }
  }
  if (const LifecycleEventInfo* failed = target.failed_event()) {
    FUZZ_CHECK(failed->status == "Failed", failed->status);
  }
}

void check_group(const DeploymentGroupInfo& group) {
  for (const auto* text :
       {&group.deployment_group_id, &group.deployment_type, &group.compute_platform,
        &group.last_attempted_deployment_id, &group.last_attempted_status}) {
    check_one_line(*text);
  }
}

const json::object* member_object(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value != nullptr && value->is_object() ? &value->get_object() : nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto field = fuzz::fields(data, size, 2);
  const std::string& body = field[0];
  const std::string& error_type_header = field[1];

  boost::system::error_code parse_error;
  json::value answer = json::parse(body, parse_error);
  if (!parse_error && answer.is_object()) {
    const json::object& object = answer.get_object();
    // Each parser gets the member it is given in an answer, or the whole
    // object when there is none (an answer of the wrong call must not crash
    // either); the target parser gets both.
    const json::object* info = member_object(object, "deploymentInfo");
    check_info(parse_deployment_info(info != nullptr ? *info : object));
    const json::object* group = member_object(object, "deploymentGroupInfo");
    check_group(parse_deployment_group_info(group != nullptr ? *group : object));

    CodeDeployOutcome outcome;
    std::vector<DeploymentTargetInfo> targets{parse_deployment_target(object)};
    if (const json::value* list = object.if_contains("deploymentTargets");
        list != nullptr && list->is_array()) {
      for (const auto& item : list->get_array()) {
        if (item.is_object()) targets.push_back(parse_deployment_target(item.get_object()));
      }
    }
    for (const auto& target : targets) {
      check_target(target);
      InstanceResult instance;
      instance.target_id = target.target_id;
      instance.status = target.status;
      if (const LifecycleEventInfo* failed = target.failed_event())
        instance.failed_event = failed->name;
      outcome.instances.push_back(instance);
    }
    for (const auto& [name, value] : codedeploy_outputs(outcome)) {
      if (name != "instances") continue;
      auto lines = static_cast<std::size_t>(std::count(value.begin(), value.end(), '\n'));
      FUZZ_CHECK(lines == outcome.instances.size(), value);
    }
  }

  for (long status : {400L, 403L, 500L}) {
    CodeDeployApiError error = parse_codedeploy_error(status, body, error_type_header);
    check_one_line(error.type);
    check_one_line(error.message);
    Error explained = explain_codedeploy_error("GetDeployment", error, "the environment");
    FUZZ_CHECK(explained.message.starts_with("codedeploy GetDeployment: "), explained.message);
    check_one_line(explained.message);
  }
  return 0;
}
