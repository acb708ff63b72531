import io.switchyard.Command
import io.switchyard.StepFlags

/**
 * Runs the whole pipeline (`switchyard run`: build, store, deploy, verify for
 * the environment the branch selects) or, with `step:`, one switchyard step,
 * with the same flags as on a laptop or in GitHub Actions, and returns its
 * --json result as a Map (plus `ok` and `exit_code`, always present).
 *
 *   switchyard(sshCredentials: 'deploy-ssh-key')
 *   def built = switchyard(step: 'build-jar')
 *   switchyard(step: 'verify-health', args: ['--timeout', '60s', 'https://example.org/actuator/health'])
 *
 * See switchyard.txt for every parameter.
 */
def call(Map config = [:]) {
  Map defaultConfig = [
    // One step (build-jar, push-artifact, ...); empty: the whole pipeline (switchyard run).
    step: '',
    // The step's flags and values, one list element per word, passed as they are.
    args: [],
    // switchyard.yml; empty: the step's own default (./switchyard.yml when present).
    config: '',
    // The environment section; empty: chosen by the branch (BRANCH_NAME).
    environment: '',
    // Jenkins credentials to bind for the step: [[id: 'deploy-token', variable: 'DEPLOY_TOKEN']]
    // (a secret text), or with type: 'file' (a secret file; the variable holds its path).
    // Refer to them in args as env:DEPLOY_TOKEN so the value never reaches a command line.
    secrets: [],
    // An "SSH Username with private key" credential for request-deploy: its key file
    // becomes deploy.ssh.identity_file (SWITCHYARD_DEPLOY__SSH__IDENTITY_FILE).
    sshCredentials: '',
    // A secret file credential holding an AWS credentials file (AWS_SHARED_CREDENTIALS_FILE),
    // for an s3:// store; agents with an instance role need none.
    awsCredentials: '',
    // A directory holding the switchyard binaries, put first on PATH; empty: PATH as it is.
    binDir: '',
    // Fail the build when the step fails (exit code > 0); false returns the result instead.
    failOnError: true,
  ]
  for (String key : config.keySet()) {
    if (!defaultConfig.containsKey(key)) {
      error("switchyard: unknown parameter '${key}'; use ${defaultConfig.keySet().join(', ')}")
    }
  }
  Map options = defaultConfig << config
  String command = options.step ? options.step.toString() : Command.PIPELINE
  if (!(options.args instanceof List)) {
    error('switchyard: args must be a list, one element per flag or value: ' +
          "args: ['--timeout', '60s', 'https://example.org/actuator/health']")
  }
  if (!(options.secrets instanceof List)) {
    error("switchyard: secrets must be a list: secrets: [[id: 'credentials-id', variable: 'NAME']]")
  }

  Command line = null
  try {
    line = new Command(command, options.args, options.config.toString(), options.environment.toString())
  } catch (IllegalArgumentException e) {
    error(e.message)
  }
  List bindings = credentialBindings(options.secrets)
  if (options.sshCredentials) {
    bindings << sshUserPrivateKey(credentialsId: options.sshCredentials.toString(),
                                  keyFileVariable: 'SWITCHYARD_DEPLOY__SSH__IDENTITY_FILE')
  }
  if (options.awsCredentials) {
    bindings << file(credentialsId: options.awsCredentials.toString(), variable: 'AWS_SHARED_CREDENTIALS_FILE')
  }

  // Per call, so parallel branches never share a file.
  String base = "${pwd(tmp: true)}/switchyard-${command}-${UUID.randomUUID()}"
  List environment = [
    "SWITCHYARD_RESULT_FILE=${base}.result.json",
    // Where the Jenkins adapter of the binaries writes its outputs (instead of
    // .switchyard/outputs.json in the workspace).
    "SWITCHYARD_OUTPUT_FILE=${base}.outputs.json",
  ]
  if (options.binDir) {
    environment << "PATH+SWITCHYARD=${options.binDir}"
  }

  int status = 0
  withEnv(environment) {
    withCredentials(bindings) {
      status = sh(script: line.script(), returnStatus: true)
    }
  }

  Map result = readResult("${base}.result.json")
  if (status == Command.NOT_FOUND) {
    status = 3
    result.error = "switchyard: not found on the agent's PATH; install the switchyard .deb on the agent, or pass binDir"
  }
  result.ok = status == 0
  result.exit_code = status
  if (status != 0 && !result.error) {
    result.error = "switchyard ${command}: ${Command.describeExit(status)}; see the log above"
  }
  if (status != 0 && options.failOnError) {
    // A message that already names switchyard as its subject stays as it is;
    // others (a URL, a file) get the step in front.
    String message = result.error.toString()
    error(message ==~ /^switchyard[ :-].*/ ? message : "switchyard ${command}: ${message}")
  }
  return result
}

/**
 * What the per-step globals run: switchyardRequestDeploy(artifact: ...) is
 * switchyard.named('switchyardRequestDeploy', 'request-deploy', [artifact: ...]),
 * the named parameters turned into the step's flags (StepFlags).
 */
def named(String global, String step, Map parameters) {
  Map stepCall = null
  try {
    stepCall = StepFlags.toSwitchyardCall(global, step, parameters)
  } catch (IllegalArgumentException e) {
    error(e.message)
  }
  return call(stepCall)
}

/** The withCredentials bindings for `secrets`; error() on a malformed entry. */
private List credentialBindings(List secrets) {
  List bindings = []
  for (Object secret : secrets) {
    if (!(secret instanceof Map) || !secret.id || !(secret.variable ==~ /[A-Za-z_][A-Za-z0-9_]*/)) {
      error("switchyard: secrets entry ${secret} needs an id and a variable name; " +
            "use [id: 'credentials-id', variable: 'NAME'] and pass env:NAME in args")
    }
    String type = secret.type ?: 'string'
    if (type == 'string') {
      bindings << string(credentialsId: secret.id, variable: secret.variable)
    } else if (type == 'file') {
      bindings << file(credentialsId: secret.id, variable: secret.variable)
    } else {
      error("switchyard: secrets entry '${secret.id}' has type '${type}'; use string or file")
    }
  }
  return bindings
}

/**
 * The step's --json result from `path` as a plain Map: the last line that is
 * a JSON object (a child process may have printed before it), else empty.
 * returnPojo gives LinkedHashMap, ArrayList and plain nulls, which survive
 * the Java serialization CPS applies between steps; the default net.sf.json
 * objects would carry JSONNull, which is truthy in Groovy.
 */
private Map readResult(String path) {
  if (!fileExists(path)) {
    return [:]
  }
  List lines = readFile(path).readLines()
  for (int i = lines.size() - 1; i >= 0; i--) {
    String line = lines[i].trim()
    if (line.startsWith('{')) {
      return readJSON(text: line, returnPojo: true) as LinkedHashMap
    }
  }
  return [:]
}
