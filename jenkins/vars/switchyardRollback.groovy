/** switchyard rollback with its flags as named parameters (see switchyardRollback.txt). */
def call(Map args = [:]) {
  return switchyard.named('switchyardRollback', 'rollback', args)
}
