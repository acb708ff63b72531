// Runs jenkins/vars/switchyard.groovy and switchyardVerifyHealth.groovy
// under real Groovy with PipelineStandIn for the pipeline steps, down to the
// real switchyard binary and a loopback HTTP server that
// tests/cli/jenkins_library.sh starts. Jenkins itself cannot run here.
//
// Environment: SWITCHYARD_SOURCE_DIR, SWITCHYARD_BIN_DIR, TEST_BASE_URL (the
// server: /health is UP, /down is DOWN), TEST_REQUEST_LOG (one JSON line of
// headers per request), TEST_WORK (a scratch directory).
import groovy.json.JsonSlurper
import groovy.transform.Field

@Field String sourceDir = System.getenv('SWITCHYARD_SOURCE_DIR')
@Field String binDir = System.getenv('SWITCHYARD_BIN_DIR')
@Field String baseUrl = System.getenv('TEST_BASE_URL')
@Field File requestLog = new File(System.getenv('TEST_REQUEST_LOG'))
@Field File work = new File(System.getenv('TEST_WORK'))
@Field File varsDir = new File(sourceDir, 'jenkins/vars')
@Field int workspaceCount = 0

// A fresh pipeline per test: a workspace, the node's environment (JENKINS_URL
// set, as on a real agent; PATH without switchyard unless binDir is given),
// and the library's vars loaded with the stand-in steps bound.
Map newPipeline(Map nodeEnvironment = [:]) {
  File workspace = new File(work, "workspace-${++workspaceCount}")
  workspace.mkdirs()
  Map environment = [
    PATH: '/usr/local/bin:/usr/bin:/bin', HOME: System.getenv('HOME') ?: '/root',
    JENKINS_URL: 'http://127.0.0.1:1/', BRANCH_NAME: 'main', BUILD_NUMBER: '7',
  ] + nodeEnvironment
  PipelineStandIn pipeline = new PipelineStandIn(workspace, environment)
  Binding binding = pipeline.binding()
  GroovyShell shell = new GroovyShell(this.class.classLoader, binding)
  // What each var returns must survive the serialization CPS applies between steps.
  Map vars = JenkinsLibrary.load(shell, binding, varsDir, this.&assertSurvivesCps)
  return [pipeline: pipeline, vars: vars]
}

// CPS serializes every local variable between steps: a result must be plain
// Java data (no JSONNull, no lazy maps) and serialize as it is.
void assertSurvivesCps(String var, Object value) {
  Closure walk
  walk = { Object item, String path ->
    assert !(item instanceof JSONNullStandIn): "${var}: ${path} is net.sf.json's JSONNull, which is truthy; read JSON with returnPojo: true"
    assert item == null || item instanceof Serializable: "${var}: ${path} (${item.getClass().name}) is not Serializable"
    if (item instanceof Map) {
      item.each { key, nested -> walk(nested, "${path}.${key}") }
    } else if (item instanceof List) {
      item.eachWithIndex { nested, index -> walk(nested, "${path}[${index}]") }
    }
  }
  walk(value, 'result')
  new ObjectOutputStream(new ByteArrayOutputStream()).writeObject(value)
}

// A `switchyard` of the test's own in a new directory: it records its
// arguments (<dir>/switchyard.args, one per line) and the content of the file
// each variable in `files` names (<dir>/<VARIABLE>), and prints `resultJson`,
// so a test sees exactly what the library ran.
File fakeSwitchyard(String resultJson, List<String> files = []) {
  File directory = new File(work, "fake-bin-${UUID.randomUUID()}")
  directory.mkdirs()
  File program = new File(directory, 'switchyard')
  StringBuilder text = new StringBuilder('#!/bin/sh\n')
  text << 'here=$(dirname "$0")\n'
  text << 'printf \'%s\\n\' "$@" >"$here/switchyard.args"\n'
  for (String variable : files) {
    text << 'if [ -n "${' << variable << ':-}" ]; then cat "$' << variable << '" >"$here/' << variable << '"; fi\n'
  }
  text << 'cat <<\'JSON\'\n' << resultJson << '\nJSON\n'
  program.text = text.toString()
  program.setExecutable(true)
  return directory
}

// Runs `body`, which must end in error(); returns the message.
String expectError(PipelineStandIn pipeline, Closure body) {
  try {
    body()
  } catch (RuntimeException e) {
    assert e.class.simpleName == 'PipelineError': "expected error(), got ${e}"
    assert pipeline.errors == [e.message]: "error() was called ${pipeline.errors.size()} times: ${pipeline.errors}"
    return e.message
  }
  throw new AssertionError('expected error() to fail the build, but the call returned')
}

List requestsSince(int count) {
  List lines = requestLog.exists() ? requestLog.readLines() : []
  return lines.drop(count).collect { new JsonSlurper().parseText(it) }
}

int requestCount() {
  return requestLog.exists() ? requestLog.readLines().size() : 0
}

Map tests = [:]

tests['a healthy URL returns the result as a Map, with ok and exit_code'] = {
  def run = newPipeline()
  Map result = run.vars.switchyard.call(step: 'verify-health', binDir: binDir,
                                        args: ['--timeout', '5s', "${baseUrl}/health"])
  assert result.ok == true && result.exit_code == 0 && result.healthy == true: result
  assert result.urls.toString().contains("${baseUrl}/health"): result
  assert run.pipeline.errors.isEmpty()
  // The binaries saw JENKINS_URL and wrote their outputs file where the library said.
  Map environment = run.pipeline.shellEnvironments[0]
  File outputs = new File(environment.SWITCHYARD_OUTPUT_FILE)
  assert outputs.exists(): "the Jenkins adapter wrote no outputs file at ${outputs}"
  Map written = new JsonSlurper().parse(outputs)
  assert written.ok == 'true' && written.healthy == 'true': written
  assert environment.PATH.startsWith(binDir + ':'): environment.PATH
}

tests['arguments reach the binary literally: quotes, $HOME, backquotes, $(...)'] = {
  def run = newPipeline()
  File pwned = new File(work, 'pwned')
  String value = "it's \$HOME \"quoted\" `touch ${pwned}` \$(touch ${pwned}); echo done"
  int before = requestCount()
  Map result = run.vars.switchyard.call(step: 'verify-health', binDir: binDir,
                                        args: ['--header', "X-Probe: ${value}", "${baseUrl}/health"])
  assert result.ok: result
  assert !pwned.exists(): 'an argument was evaluated by the shell'
  List probes = requestsSince(before).collect { it.headers['X-Probe'] }
  assert probes == [value]: "the server got ${probes}"
  // The script quotes each word: nothing for the shell to expand.
  assert run.pipeline.scripts[0].contains("'X-Probe: it'\\''s \$HOME \"quoted\""): run.pipeline.scripts[0]
}

tests['a bound secret travels in the environment, never in the script text'] = {
  def run = newPipeline()
  String secret = "Bearer s3cr3t-${UUID.randomUUID()}"
  run.pipeline.credentials['health-authorization'] = secret
  int before = requestCount()
  Map result = run.vars.switchyard.call(
    step: 'verify-health', binDir: binDir,
    secrets: [[id: 'health-authorization', variable: 'HEALTH_AUTHORIZATION']],
    args: ['--header', 'Authorization: env:HEALTH_AUTHORIZATION', "${baseUrl}/health"])
  assert result.ok: result
  assert requestsSince(before).collect { it.headers.Authorization } == [secret]
  assert run.pipeline.scripts.size() == 1
  assert !run.pipeline.scripts[0].contains(secret): run.pipeline.scripts[0]
  assert !result.toString().contains(secret)
  assert run.pipeline.shellEnvironments[0].HEALTH_AUTHORIZATION == secret
  File outputs = new File(run.pipeline.shellEnvironments[0].SWITCHYARD_OUTPUT_FILE)
  assert !outputs.text.contains(secret)
}

tests['a secret file binds its path, not its content'] = {
  def run = newPipeline()
  String secret = "key-${UUID.randomUUID()}"
  run.pipeline.credentials['deploy-key'] = secret
  Map result = run.vars.switchyard.call(
    step: 'verify-health', binDir: binDir, secrets: [[id: 'deploy-key', variable: 'DEPLOY_KEY', type: 'file']],
    args: ["${baseUrl}/health"])
  assert result.ok: result
  assert new File(run.pipeline.shellEnvironments[0].DEPLOY_KEY).text == secret
  assert !run.pipeline.scripts[0].contains(secret)
}

tests['an unhealthy URL fails the build with the one-line error'] = {
  def run = newPipeline()
  String message = expectError(run.pipeline) {
    run.vars.switchyard.call(step: 'verify-health', binDir: binDir, args: ['--timeout', '1s', "${baseUrl}/down"])
  }
  assert message == "switchyard verify-health: ${baseUrl}/down: not healthy after 1s: status DOWN; check the service's log"
}

tests['failOnError: false returns the failure instead'] = {
  def run = newPipeline()
  Map result = run.vars.switchyard.call(step: 'verify-health', binDir: binDir, failOnError: false,
                                        args: ['--timeout', '1s', "${baseUrl}/down"])
  assert result.ok == false && result.exit_code == 1: result
  assert result.error == "${baseUrl}/down: not healthy after 1s: status DOWN; check the service's log"
  assert run.pipeline.errors.isEmpty()
}

tests['an unknown step names the valid steps, and runs nothing'] = {
  def run = newPipeline()
  String message = expectError(run.pipeline) {
    run.vars.switchyard.call(step: 'deploy-everything', binDir: binDir)
  }
  assert message == "switchyard: 'deploy-everything' is not a switchyard step; use one of " +
    'build-jar, push-artifact, request-deploy, verify-health, switch-traffic, rollback, or no step for the whole pipeline'
  assert run.pipeline.scripts.isEmpty()
}

tests['an unknown parameter is named'] = {
  def run = newPipeline()
  assert expectError(run.pipeline) { run.vars.switchyard.call(step: 'verify-health', arg: ['x']) } ==
    "switchyard: unknown parameter 'arg'; use step, args, config, environment, secrets, sshCredentials, " +
    'awsCredentials, binDir, failOnError'
  run = newPipeline()
  assert expectError(run.pipeline) { run.vars.switchyard.call(step: 'verify-health', args: '--timeout 5s') }
    .startsWith('switchyard: args must be a list')
  assert run.pipeline.scripts.isEmpty()
}

tests['a bad flag fails with the exit code and its meaning'] = {
  def run = newPipeline()
  String message = expectError(run.pipeline) {
    run.vars.switchyard.call(step: 'verify-health', binDir: binDir, args: ['--no-such-flag', "${baseUrl}/health"])
  }
  // The step reports a bad flag in its --json result, so the build fails
  // with the step's own one-line message, which names the flag.
  assert message.startsWith('switchyard-verify-health: ')
  assert message.contains('--no-such-flag')
  assert message.endsWith('; see switchyard-verify-health --help')
}

tests['an empty value and the old --version LABEL fail the build, and probe nothing'] = {
  // A pipeline variable that came out empty ('') must not pass for a value,
  // nor let the next argument take its place.
  int before = requestCount()
  def run = newPipeline()
  String message = expectError(run.pipeline) {
    run.vars.switchyard.call(step: 'verify-health', binDir: binDir, args: ['--timeout', '', "${baseUrl}/health"])
  }
  assert message == 'switchyard-verify-health: --timeout: empty value; give it a value or leave the flag out'
  run = newPipeline()
  message = expectError(run.pipeline) {
    run.vars.switchyard.call(step: 'verify-health', binDir: binDir, args: ['--version', "${baseUrl}/health"])
  }
  assert message.startsWith('switchyard-verify-health: --version prints the program\'s version and takes no ' +
                            'other argument; the release label is now --release LABEL')
  assert requestCount() == before
}

tests['config and environment become --config and --env'] = {
  def run = newPipeline()
  Map result = run.vars.switchyard.call(step: 'verify-health', binDir: binDir, failOnError: false,
                                        config: 'ci/missing.yml', environment: 'prod',
                                        args: ["${baseUrl}/health"])
  assert run.pipeline.scripts[0].contains("'--config' 'ci/missing.yml' '--env' 'prod' '--json'"): run.pipeline.scripts[0]
  assert result.exit_code == 2 && result.error.contains('ci/missing.yml'): result
}

tests['no switchyard on the agent: exit code 3 and what to do'] = {
  if (new File('/usr/bin/switchyard').exists() || new File('/usr/local/bin/switchyard').exists()) {
    println '  (switchyard is installed system-wide here: not checked)'
    return
  }
  def run = newPipeline()
  String message = expectError(run.pipeline) {
    run.vars.switchyard.call(step: 'verify-health', args: ["${baseUrl}/health"])
  }
  assert message == "switchyard: not found on the agent's PATH; install the switchyard .deb on the agent, or pass binDir"
}

tests['an unknown credentials id fails as withCredentials does'] = {
  def run = newPipeline()
  try {
    run.vars.switchyard.call(step: 'verify-health', binDir: binDir, secrets: [[id: 'nope', variable: 'X']],
                             args: ["${baseUrl}/health"])
    assert false: 'withCredentials should have failed'
  } catch (RuntimeException e) {
    assert e.class.simpleName == 'PipelineError': "expected the build to fail, got ${e}"
    assert e.message == "Could not find credentials entry with ID 'nope'"
  }
  run = newPipeline()
  assert expectError(run.pipeline) {
    run.vars.switchyard.call(step: 'verify-health', binDir: binDir, secrets: [[id: 'x', variable: 'BAD-NAME']])
  }.startsWith('switchyard: secrets entry [id:x, variable:BAD-NAME] needs an id and a variable name')
}

tests['switchyardVerifyHealth turns named parameters into flags'] = {
  def run = newPipeline()
  int before = requestCount()
  Map result = run.vars.switchyardVerifyHealth.call(
    urls: ["${baseUrl}/health"], timeout: '5s', expectJson: ['status=UP'], binDir: binDir,
    headers: ['X-Probe: named'], successes: 2)
  assert result.ok && result.healthy: result
  assert run.pipeline.scripts[0].contains(
    "'switchyard' 'verify-health' '--timeout' '5s' '--successes' '2' '--expect-json' 'status=UP' " +
    "'--header' 'X-Probe: named' '${baseUrl}/health' '--json'"): run.pipeline.scripts[0]
  assert requestsSince(before).size() >= 2
  run = newPipeline()
  assert expectError(run.pipeline) { run.vars.switchyardVerifyHealth.call(urls: []) }
    .startsWith('switchyardVerifyHealth: urls needs at least one URL')
  run = newPipeline()
  String message = expectError(run.pipeline) {
    run.vars.switchyardVerifyHealth.call(urls: ["${baseUrl}/down"], timeout: '1s', binDir: binDir)
  }
  assert message.startsWith("switchyard verify-health: ${baseUrl}/down"): message
}

tests['Command.quote survives a real shell for awkward words'] = {
  List words = ["it's", '$HOME', '`id`', '$(id)', 'a b', '', '\\', '"', "new\nline", '*', "'", "''"]
  File script = new File(work, 'quote.sh')
  script.text = 'for word in ' + words.collect { io.switchyard.Command.quote(it) }.join(' ') +
    '; do printf "%s\\0" "$word"; done'
  Process process = ['/bin/sh', script.path].execute()
  String out = process.inputStream.getText('UTF-8')
  assert process.waitFor() == 0
  assert out.split('\u0000', -1).toList().dropRight(1) == words
}

tests['examples/Jenkinsfile compiles, and calls real steps with known parameters'] = {
  // The declarative keywords only run their blocks: this checks the example
  // against the library, not Jenkins' own validation of the pipeline.
  Map environment = [BRANCH_NAME: 'main']
  List calls = []
  Binding binding = new Binding()
  binding.setVariable('env', environment)
  JenkinsLibrary.bindDeclarative(binding, environment)
  binding.setVariable('echo', { String message -> })
  binding.setVariable('error', { String message -> throw new AssertionError("the Jenkinsfile called error(${message})") })
  Map fakeResult = [ok: true, exit_code: 0, jar: 'target/hello.jar', version: '1.0.0-abc1234', app_version: '1.0.0',
                    sha256: 'ab' * 32, artifact_uri: 's3://example/hello.jar']
  binding.setVariable('switchyard', { Map config -> calls << ([var: 'switchyard'] + config); fakeResult })
  binding.setVariable('switchyardVerifyHealth', { Map config -> calls << ([var: 'switchyardVerifyHealth'] + config); fakeResult })
  new GroovyShell(this.class.classLoader, binding).parse(new File(sourceDir, 'examples/Jenkinsfile')).run()

  Map known = [
    switchyard: ['step', 'args', 'config', 'environment', 'secrets', 'sshCredentials', 'awsCredentials', 'binDir',
                 'failOnError'],
    switchyardVerifyHealth: ['urls', 'timeout', 'expectStatus', 'expectVersion', 'expectJson', 'headers', 'successes',
                             'cacert', 'secrets', 'binDir', 'config', 'environment', 'failOnError'],
  ]
  assert calls: 'the example calls no switchyard global'
  for (Map call : calls) {
    Set unknown = call.keySet() - 'var' - known[call.var]
    assert unknown.isEmpty(): "${call.var}: unknown parameters ${unknown}"
    assert call.var != 'switchyard' || !call.step || call.step in io.switchyard.Command.STEPS
    assert call.args == null || (call.args instanceof List && !call.args.contains(null)): call
  }
  // What it runs, for jenkins_library.sh to compare with the GitHub example:
  // one [command, args] per call, as the words after `switchyard`.
  new File(work, 'jenkinsfile-calls.json').text = groovy.json.JsonOutput.toJson(
    calls.findAll { it.var == 'switchyard' }.collect { [it.step ?: 'run', it.args ?: []] })
  // Every flag the example passes is one the built step knows.
  int checked = 0
  for (Map call : calls.findAll { it.var == 'switchyard' && it.step }) {
    File executable = new File(binDir, "switchyard-${call.step}")
    if (!executable.canExecute()) {
      println "  (switchyard-${call.step} is not built: its flags are not checked)"
      continue
    }
    Process process = [executable.path, '--help'].execute()
    String help = process.inputStream.text
    process.waitFor()
    for (Object flag : (call.args ?: []).findAll { it.toString().startsWith('--') }) {
      assert help =~ /(^|\s)${flag}\b/: "switchyard ${call.step} has no flag ${flag}"
      checked++
    }
  }
  println "  (${checked} flags checked against the steps' --help)"
}

tests['without step, the pipeline runs with the ssh key bound as a file, never in the script'] = {
  def run = newPipeline()
  String key = "-----BEGIN OPENSSH PRIVATE KEY-----\nsentinel-${UUID.randomUUID()}\n-----END OPENSSH PRIVATE KEY-----"
  run.pipeline.credentials['deploy-ssh-key'] = key
  File fake = fakeSwitchyard('{"ok":true,"version":"1.0.0-abc1234","hosts":[{"host":"web1","after":"1.0.0-abc1234"}]}',
                             ['SWITCHYARD_DEPLOY__SSH__IDENTITY_FILE'])
  Map result = run.vars.switchyard.call(sshCredentials: 'deploy-ssh-key', environment: 'prod', binDir: fake.path)
  assert result.ok && result.version == '1.0.0-abc1234' && result.hosts[0].host == 'web1': result
  assert new File(fake, 'switchyard.args').readLines() == ['run', '--env', 'prod', '--json']
  assert new File(fake, 'SWITCHYARD_DEPLOY__SSH__IDENTITY_FILE').text == key
  assert !run.pipeline.scripts[0].contains('sentinel')
}

tests['a null in a result stays a Java null, and results survive serialization'] = {
  def run = newPipeline()
  File fake = fakeSwitchyard('{"ok":true,"version":"2.0.0","previous_version":null,"durations":{"gate":null}}')
  Map result = run.vars.switchyardRollback.call(binDir: fake.path)
  assert result.previous_version == null && !result.previous_version: result
  assert result.durations.gate == null: result
  assert run.pipeline.readJsonCalls.every { it.returnPojo == true }: run.pipeline.readJsonCalls
  // The check itself can fail: net.sf.json's null is caught.
  try {
    assertSurvivesCps('probe', [previous_version: JSONNullStandIn.INSTANCE])
    assert false: 'JSONNull passed the CPS check'
  } catch (AssertionError e) {
    assert e.message.contains('JSONNull'): e.message
  }
}

tests['named parameters become --flag=value words; empty and unknown ones fail first'] = {
  def run = newPipeline()
  File fake = fakeSwitchyard('{"ok":true}')
  run.vars.switchyardRequestDeploy.call(artifact: 'file:///store/hello.jar', sha256: 'ab' * 32,
                                        release: '1.0.0-abc1234', dryRun: true, binDir: fake.path,
                                        args: ['--batch', '2'])
  assert new File(fake, 'switchyard.args').readLines() ==
    ['request-deploy', '--artifact=file:///store/hello.jar', "--sha256=${'ab' * 32}".toString(),
     '--release=1.0.0-abc1234', '--dry-run', '--batch', '2', '--json']
  run = newPipeline()
  run.vars.switchyardPushArtifact.call(file: 'target/hello.jar', store: 'file:///srv/artifacts', binDir: fake.path)
  assert new File(fake, 'switchyard.args').readLines() ==
    ['push-artifact', '--store=file:///srv/artifacts', 'target/hello.jar', '--json']
  run = newPipeline()
  assert expectError(run.pipeline) { run.vars.switchyardSwitchTraffic.call(artifact: 'a.jar', release: '') } ==
    'switchyardSwitchTraffic: release is empty; pass a value or leave the parameter out'
  run = newPipeline()
  assert expectError(run.pipeline) { run.vars.switchyardBuildJar.call(version: '1.0') }
    .startsWith("switchyardBuildJar: unknown parameter 'version'; use args, config")
  assert run.pipeline.scripts.isEmpty()
}

tests['each step executable has its global, and the library knows exactly those steps'] = {
  List steps = new File(sourceDir, 'steps').listFiles().findAll { it.isDirectory() }*.name.sort()
  assert io.switchyard.Command.STEPS.sort(false) == steps
  for (String step : steps) {
    String global = 'switchyard' + step.split('-').collect { it.capitalize() }.join('')
    assert new File(varsDir, "${global}.groovy").exists(): "${step} has no vars/${global}.groovy"
    if (step != 'verify-health') {
      assert io.switchyard.StepFlags.VALUES.containsKey(step): "StepFlags has no flags for ${step}"
    }
  }
}

tests['every var has a help page'] = {
  for (File var : varsDir.listFiles().findAll { it.name.endsWith('.groovy') }) {
    File help = new File(varsDir, var.name.replace('.groovy', '.txt'))
    assert help.exists() && help.text.contains('Exit codes'): "${help} is missing or names no exit codes"
  }
}

int passed = 0
int failed = 0
tests.each { String name, Closure test ->
  try {
    test()
    println "ok: ${name}"
    passed++
  } catch (Throwable e) {
    println "FAIL: ${name}: ${e.message}"
    failed++
  }
}
println "${passed} passed, ${failed} failed"
System.exit(failed ? 1 : 0)
