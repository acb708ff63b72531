import io.switchyard.StepFlags

/**
 * switchyard switch-traffic with its flags as named parameters; returns the step's
 * --json result as a Map, like switchyard(step: 'switch-traffic'). See switchyardSwitchTraffic.txt.
 */
def call(Map args = [:]) {
  Map call = null
  try {
    call = StepFlags.toSwitchyardCall('switchyardSwitchTraffic', 'switch-traffic', args)
  } catch (IllegalArgumentException e) {
    error(e.message)
  }
  return switchyard(call)
}
