/** switchyard switch-traffic with its flags as named parameters (see switchyardSwitchTraffic.txt). */
def call(Map args = [:]) {
  return switchyard.named('switchyardSwitchTraffic', 'switch-traffic', args)
}
