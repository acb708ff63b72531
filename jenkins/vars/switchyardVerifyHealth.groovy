/**
 * Waits until every URL answers healthy: switchyard verify-health with its
 * flags as named parameters, returning the same Map as switchyard().
 *
 *   switchyardVerifyHealth(urls: ['https://example.org/actuator/health'], timeout: '2m',
 *                          expectVersion: built.app_version)
 *
 * See switchyardVerifyHealth.txt for every parameter.
 */
def call(Map config = [:]) {
  Map defaultConfig = [
    urls: [],
    timeout: '',
    expectStatus: '',
    expectVersion: '',
    // ['status=UP', 'components.db.status=UP']
    expectJson: [],
    // ['Authorization: env:HEALTH_AUTHORIZATION'], with the variable bound through secrets.
    headers: [],
    successes: '',
    cacert: '',
    // Passed on to switchyard().
    secrets: [],
    binDir: '',
    config: '',
    environment: '',
    failOnError: true,
  ]
  for (String key : config.keySet()) {
    if (!defaultConfig.containsKey(key)) {
      error("switchyardVerifyHealth: unknown parameter '${key}'; use ${defaultConfig.keySet().join(', ')}")
    }
  }
  Map options = defaultConfig << config
  List urls = options.urls instanceof List ? options.urls : [options.urls]
  if (!urls || urls.contains(null) || urls.contains('')) {
    error("switchyardVerifyHealth: urls needs at least one URL: urls: ['https://example.org/actuator/health']")
  }
  for (String name : ['expectJson', 'headers']) {
    if (!(options[name] instanceof List)) {
      error("switchyardVerifyHealth: ${name} must be a list of strings")
    }
  }

  List args = []
  Map flags = [
    timeout: '--timeout', expectStatus: '--expect-status', expectVersion: '--expect-version',
    successes: '--successes', cacert: '--cacert',
  ]
  for (String name : flags.keySet()) {
    if (options[name]) {
      args << flags[name] << options[name].toString()
    }
  }
  for (Object expectation : options.expectJson) {
    args << '--expect-json' << expectation.toString()
  }
  for (Object header : options.headers) {
    args << '--header' << header.toString()
  }
  for (Object url : urls) {
    args << url.toString()
  }
  return switchyard(step: 'verify-health', args: args, secrets: options.secrets, binDir: options.binDir,
                    config: options.config, environment: options.environment,
                    failOnError: options.failOnError)
}
