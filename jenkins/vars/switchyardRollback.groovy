import io.switchyard.StepFlags

/**
 * switchyard rollback with its flags as named parameters; returns the step's
 * --json result as a Map, like switchyard(step: 'rollback'). See switchyardRollback.txt.
 */
def call(Map args = [:]) {
  Map call = null
  try {
    call = StepFlags.toSwitchyardCall('switchyardRollback', 'rollback', args)
  } catch (IllegalArgumentException e) {
    error(e.message)
  }
  return switchyard(call)
}
