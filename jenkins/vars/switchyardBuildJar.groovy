/** switchyard build-jar with its flags as named parameters (see switchyardBuildJar.txt). */
def call(Map args = [:]) {
  return switchyard.named('switchyardBuildJar', 'build-jar', args)
}
