import io.switchyard.StepFlags

/**
 * switchyard push-artifact with its flags as named parameters; returns the step's
 * --json result as a Map, like switchyard(step: 'push-artifact'). See switchyardPushArtifact.txt.
 */
def call(Map args = [:]) {
  Map call = null
  try {
    call = StepFlags.toSwitchyardCall('switchyardPushArtifact', 'push-artifact', args)
  } catch (IllegalArgumentException e) {
    error(e.message)
  }
  return switchyard(call)
}
