/** switchyard request-deploy with its flags as named parameters (see switchyardRequestDeploy.txt). */
def call(Map args = [:]) {
  return switchyard.named('switchyardRequestDeploy', 'request-deploy', args)
}
