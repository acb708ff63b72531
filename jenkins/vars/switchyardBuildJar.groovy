import io.switchyard.StepFlags

/**
 * switchyard build-jar with its flags as named parameters; returns the step's
 * --json result as a Map, like switchyard(step: 'build-jar'). See switchyardBuildJar.txt.
 */
def call(Map args = [:]) {
  Map call = null
  try {
    call = StepFlags.toSwitchyardCall('switchyardBuildJar', 'build-jar', args)
  } catch (IllegalArgumentException e) {
    error(e.message)
  }
  return switchyard(call)
}
