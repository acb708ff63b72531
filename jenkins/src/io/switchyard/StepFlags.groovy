package io.switchyard

/**
 * The named parameters of the per-step globals (switchyardBuildJar,
 * switchyardRequestDeploy, ...) and the flags they stand for, so a call
 * reads `switchyardRequestDeploy(artifact: stored.artifact_uri, ...)` and
 * still runs exactly the command a laptop would. One table for every step;
 * plain loops keep it safe under Jenkins' CPS transformation.
 */
class StepFlags implements Serializable {
  private static final long serialVersionUID = 1L

  /** Parameters every global passes on to switchyard() unchanged. */
  static final List<String> COMMON = [
    'args', 'config', 'environment', 'secrets', 'sshCredentials', 'awsCredentials', 'binDir', 'failOnError',
  ]

  /** Per step: named parameter -> flag taking a value. */
  static final Map<String, Map<String, String>> VALUES = [
    'build-jar'     : [releaseTemplate: '--release-template', project: '--project', tool: '--tool', jar: '--jar'],
    'push-artifact' : [store: '--store', release: '--release', app: '--app', presign: '--presign'],
    'request-deploy': [via: '--via', artifact: '--artifact', sha256: '--sha256', release: '--release',
                       batch: '--batch', to: '--to', lockTimeout: '--lock-timeout', presign: '--presign'],
    'switch-traffic': [artifact: '--artifact', sha256: '--sha256', release: '--release',
                       lockTimeout: '--lock-timeout'],
    'rollback'      : [to: '--to', lockTimeout: '--lock-timeout'],
  ]

  /** Per step: named parameter -> flag without a value, given when true. */
  static final Map<String, Map<String, String>> SWITCHES = [
    'build-jar'     : [dryRun: '--dry-run'],
    'push-artifact' : [force: '--force', dryRun: '--dry-run'],
    'request-deploy': [rollback: '--rollback', status: '--status', dryRun: '--dry-run',
                       noRollbackOnFailure: '--no-rollback-on-failure', acceptNewHostKeys: '--accept-new-host-keys'],
    'switch-traffic': [dryRun: '--dry-run'],
    'rollback'      : [list: '--list', dryRun: '--dry-run'],
  ]

  /** Per step: the named parameter that is the step's positional argument. */
  static final Map<String, String> POSITIONAL = ['push-artifact': 'file']

  /**
   * The switchyard() parameters for `step` called with `parameters`: named
   * ones become `--flag=value` words before any `args`, common ones pass
   * through. Throws IllegalArgumentException naming an unknown parameter or
   * an empty value (an empty value would otherwise deploy something else).
   */
  static Map toSwitchyardCall(String global, String step, Map parameters) {
    Map<String, String> values = VALUES[step] ?: [:]
    Map<String, String> switches = SWITCHES[step] ?: [:]
    String positional = POSITIONAL[step]
    Map call = [step: step]
    List words = []
    List known = []
    known.addAll(COMMON)
    known.addAll(values.keySet())
    known.addAll(switches.keySet())
    if (positional) {
      known << positional
    }
    for (Object key : parameters.keySet()) {
      String name = key.toString()
      Object value = parameters[key]
      if (!(name in known)) {
        throw new IllegalArgumentException("${global}: unknown parameter '${name}'; use ${known.join(', ')}")
      }
      if (name in COMMON) {
        call[name] = value
      } else if (switches.containsKey(name)) {
        if (value) {
          words << switches[name]
        }
      } else {
        if (value == null || value.toString().isEmpty()) {
          throw new IllegalArgumentException(
            "${global}: ${name} is empty; pass a value or leave the parameter out")
        }
        if (name == positional) {
          continue
        }
        words << "${values[name]}=${value}".toString()
      }
    }
    if (positional && parameters[positional] != null) {
      words << parameters[positional].toString()
    }
    List extra = parameters.args instanceof List ? parameters.args : []
    List all = []
    all.addAll(words)
    all.addAll(extra)
    call.args = all
    return call
  }
}
