import io.switchyard.Command

/**
 * Runs one switchyard step with the same flags as on a laptop or in GitHub
 * Actions, and returns its outputs (the step's --json result) as a Map.
 *
 *   def built = switchyard(step: 'build-jar')
 *   switchyard(step: 'verify-health', args: ['--timeout', '60s', 'https://example.org/actuator/health'])
 */
def call(Map config = [:]) {
  Map defaultConfig = [
    step: '',
    args: [],
    config: 'switchyard.yml',
    environment: '',
    // Credentials to bind for the step: [[id: 'deploy-token', variable: 'DEPLOY_TOKEN']].
    // Refer to them in args as env:DEPLOY_TOKEN so the value never reaches a command line.
    secrets: [],
    // Fail the build when the step fails (exit code > 0); false returns the result instead.
    failOnError: true,
  ]
  Map options = defaultConfig << config
  if (!options.step) {
    error('switchyard: the step parameter is required, e.g. switchyard(step: \'verify-health\', args: [...])')
  }
  if (!(options.args instanceof List)) {
    error('switchyard: args must be a list of arguments, one per flag or value')
  }

  Command command
  try {
    String configPath = fileExists(options.config) ? options.config : ''
    command = new Command(options.step, options.args, configPath, options.environment)
  } catch (IllegalArgumentException e) {
    error(e.message)
  }

  String outputFile = "${env.WORKSPACE_TMP ?: pwd(tmp: true)}/switchyard-${options.step}-outputs.json"
  List bindings = options.secrets.collect { string(credentialsId: it.id, variable: it.variable) }
  int status = 0
  withEnv(["SWITCHYARD_OUTPUT_FILE=${outputFile}", "SWITCHYARD_COMMAND=${command.shellLine()}"]) {
    withCredentials(bindings) {
      // Single quotes: the shell expands $SWITCHYARD_COMMAND, not Groovy, so a
      // bound secret is never interpolated into the script text.
      status = sh(script: '''eval "$SWITCHYARD_COMMAND" > "$SWITCHYARD_OUTPUT_FILE.result"''',
                  returnStatus: true)
    }
  }

  Map result = [:]
  if (fileExists("${outputFile}.result")) {
    String text = readFile("${outputFile}.result").trim()
    if (text) {
      result = readJSON(text: text)
    }
  }
  result.exit_code = status
  if (status != 0 && options.failOnError) {
    error("switchyard ${options.step}: ${result.error ?: "exit code ${status}"}")
  }
  return result
}
