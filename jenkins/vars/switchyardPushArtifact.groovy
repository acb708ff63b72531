/** switchyard push-artifact with its flags as named parameters (see switchyardPushArtifact.txt). */
def call(Map args = [:]) {
  return switchyard.named('switchyardPushArtifact', 'push-artifact', args)
}
