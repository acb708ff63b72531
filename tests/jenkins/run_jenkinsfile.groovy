// Runs examples/Jenkinsfile (copied to TEST_WORKSPACE/Jenkinsfile) with the
// real library (jenkins/vars, jenkins/src) over PipelineStandIn, whose `sh`
// runs the real switchyard binaries: the Jenkins leg of
// tests/cli/pipeline_three_ways.sh. The ssh credential 'deploy-ssh-key' holds
// TEST_SSH_KEY_FILE's key; the last switchyard() result is written as JSON to
// TEST_RESULT. Jenkins itself cannot run here.
import groovy.json.JsonOutput

File workspace = new File(System.getenv('TEST_WORKSPACE'))
String binDir = System.getenv('SWITCHYARD_BIN_DIR')
Map environment = [
  PATH: "${binDir}:/usr/local/bin:/usr/bin:/bin".toString(), HOME: System.getenv('HOME') ?: '/root',
  JENKINS_URL: 'http://127.0.0.1:1/', BRANCH_NAME: 'main', BUILD_NUMBER: '7', LANG: 'C.UTF-8',
  BUILD_URL: 'http://127.0.0.1:1/job/hello/7/',
]
PipelineStandIn pipeline = new PipelineStandIn(workspace, environment)
pipeline.credentials['deploy-ssh-key'] = new File(System.getenv('TEST_SSH_KEY_FILE')).text
// The test's store is file://: an AWS credentials file with no profiles.
pipeline.credentials['artifacts-aws'] = '# no keys: this run stores artifacts in a directory\n'
Binding binding = pipeline.binding()
GroovyShell shell = new GroovyShell(this.class.classLoader, binding)
List results = []
JenkinsLibrary.load(shell, binding, new File(System.getenv('SWITCHYARD_SOURCE_DIR'), 'jenkins/vars')) { name, result ->
  results << result
}
JenkinsLibrary.bindDeclarative(binding, environment)
shell.parse(new File(workspace, 'Jenkinsfile')).run()
assert results: 'the Jenkinsfile called no switchyard global'
new File(System.getenv('TEST_RESULT')).text = JsonOutput.toJson(results[-1])
println "the Jenkinsfile ran ${results.size()} switchyard call(s)"
