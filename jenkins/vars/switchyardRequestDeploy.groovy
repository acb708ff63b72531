import io.switchyard.StepFlags

/**
 * switchyard request-deploy with its flags as named parameters; returns the step's
 * --json result as a Map, like switchyard(step: 'request-deploy'). See switchyardRequestDeploy.txt.
 */
def call(Map args = [:]) {
  Map call = null
  try {
    call = StepFlags.toSwitchyardCall('switchyardRequestDeploy', 'request-deploy', args)
  } catch (IllegalArgumentException e) {
    error(e.message)
  }
  return switchyard(call)
}
