import groovy.json.JsonSlurper

/**
 * The pipeline steps the switchyard library calls, as Jenkins documents them
 * (jenkins.io, "Pipeline Steps Reference": sh, withEnv, withCredentials,
 * string, file, readFile, readJSON, fileExists, error, pwd; and the env
 * global), for running jenkins/vars/*.groovy under plain Groovy. Jenkins
 * itself cannot run here.
 *
 * `sh` really runs its script: with `/bin/sh -xe` (as Jenkins' durable task
 * does unless the script starts with #!), in the workspace, with the node's
 * environment plus every withEnv and withCredentials in force, so the
 * library's whole path down to the real switchyard binary is exercised.
 * Every script text, every error() message and the environment of every sh
 * call are recorded for the tests to inspect.
 */
class PipelineStandIn {
  final File workspace
  /** The node's environment: what every sh starts from. */
  final Map<String, String> nodeEnvironment
  /** Credentials by id: secret text, or a secret file's content. */
  final Map<String, String> credentials = [:]
  final List<String> scripts = []
  final List<Map<String, String>> shellEnvironments = []
  final List<String> errors = []
  private final List<Map<String, String>> m_overrides = []

  PipelineStandIn(File workspace, Map<String, String> nodeEnvironment) {
    this.workspace = workspace
    this.nodeEnvironment = nodeEnvironment
  }

  /** The environment now: the node's, then each withEnv/withCredentials in order. */
  Map<String, String> environment() {
    Map<String, String> merged = new LinkedHashMap(nodeEnvironment)
    merged.WORKSPACE = workspace.path
    for (Map<String, String> layer : m_overrides) {
      layer.each { String name, String value ->
        // withEnv's documented PATH+NAME=dir form prepends dir to PATH.
        if (name.startsWith('PATH+')) {
          merged.PATH = value + File.pathSeparator + merged.PATH
        } else {
          merged[name] = value
        }
      }
    }
    return merged
  }

  /** A Binding with the steps as closures, the way a vars script sees them. */
  Binding binding() {
    Binding binding = new Binding()
    binding.setVariable('env', new EnvStandIn(this))
    binding.setVariable('sh', { Object arguments -> sh(arguments) })
    binding.setVariable('withEnv', { List overrides, Closure body -> withLayer(parseOverrides(overrides), body) })
    binding.setVariable('withCredentials', { List bindings, Closure body -> withCredentials(bindings, body) })
    binding.setVariable('string', { Map arguments -> [type: 'string'] + arguments })
    binding.setVariable('file', { Map arguments -> [type: 'file'] + arguments })
    binding.setVariable('sshUserPrivateKey', { Map arguments -> [type: 'sshUserPrivateKey'] + arguments })
    binding.setVariable('readFile', { Object arguments -> resolve(argument(arguments, 'file')).getText('UTF-8') })
    binding.setVariable('fileExists', { Object arguments -> resolve(argument(arguments, 'file')).exists() })
    binding.setVariable('readJSON', { Map arguments -> readJSON(arguments) })
    binding.setVariable('pwd', { Map arguments = [:] -> pwd(arguments) })
    binding.setVariable('error', { String message ->
      errors << message
      throw new PipelineError(message)
    })
    binding.setVariable('echo', { String message -> println(message) })
    return binding
  }

  Object sh(Object arguments) {
    Map options = arguments instanceof Map ? arguments : [script: arguments.toString()]
    String script = options.script
    scripts << script
    Map<String, String> environment = environment()
    shellEnvironments << environment
    File scriptFile = File.createTempFile('script', '.sh', tmpDirectory())
    scriptFile.setText(script, 'UTF-8')
    List<String> command = script.startsWith('#!') ? [scriptFile.path] : ['/bin/sh', '-xe', scriptFile.path]
    scriptFile.setExecutable(true)
    ProcessBuilder builder = new ProcessBuilder(command).directory(workspace).inheritIO()
    builder.environment().clear()
    builder.environment().putAll(environment)
    int status = builder.start().waitFor()
    scriptFile.delete()
    if (options.returnStatus) {
      return status
    }
    if (status != 0) {
      throw new PipelineError("script returned exit code ${status}")
    }
    return null
  }

  private Object withCredentials(List bindings, Closure body) {
    Map<String, String> layer = [:]
    for (Map binding : bindings) {
      if (!credentials.containsKey(binding.credentialsId)) {
        throw new PipelineError("Could not find credentials entry with ID '${binding.credentialsId}'")
      }
      String secret = credentials[binding.credentialsId]
      if (binding.type == 'sshUserPrivateKey') {
        // credentials-binding writes the key to a file and sets keyFileVariable to its path.
        File keyFile = File.createTempFile('ssh-key', '', tmpDirectory())
        // Owner-only, as the plugin writes it (ssh refuses a key others can read).
        keyFile.setReadable(false, false)
        keyFile.setReadable(true, true)
        keyFile.setWritable(false, false)
        keyFile.setWritable(true, true)
        keyFile.text = secret
        layer[binding.keyFileVariable] = keyFile.path
      } else if (binding.type == 'file') {
        File secretFile = File.createTempFile('secret', '', tmpDirectory())
        secretFile.text = secret
        layer[binding.variable] = secretFile.path
      } else {
        layer[binding.variable] = secret
      }
    }
    return withLayer(layer, body)
  }

  private Object withLayer(Map<String, String> layer, Closure body) {
    m_overrides << layer
    try {
      return body.call()
    } finally {
      m_overrides.remove(m_overrides.size() - 1)
    }
  }

  private static Map<String, String> parseOverrides(List overrides) {
    Map<String, String> layer = [:]
    for (Object entry : overrides) {
      String text = entry.toString()
      int equals = text.indexOf('=')
      layer[text.substring(0, equals)] = text.substring(equals + 1)
    }
    return layer
  }

  /** Every readJSON call's arguments, for tests that check how it was called. */
  final List<Map> readJsonCalls = []

  /**
   * As pipeline-utility-steps' readJSON: by default net.sf.json objects, where
   * a JSON null is JSONNull (a real object: truthy in Groovy, and no Java
   * null); with returnPojo: true plain LinkedHashMap, ArrayList and null.
   */
  private Object readJSON(Map arguments) {
    readJsonCalls << new LinkedHashMap(arguments)
    String text = arguments.containsKey('text') ? arguments.text : resolve(arguments.file).getText('UTF-8')
    Object parsed = new JsonSlurper().parseText(text)
    return arguments.returnPojo ? toPojo(parsed) : toNetSfJson(parsed)
  }

  private static Object toPojo(Object value) {
    if (value instanceof Map) {
      Map copy = new LinkedHashMap()
      value.each { key, item -> copy[key] = toPojo(item) }
      return copy
    }
    if (value instanceof List) {
      return new ArrayList(value.collect { toPojo(it) })
    }
    return value
  }

  private static Object toNetSfJson(Object value) {
    if (value == null) {
      return JSONNullStandIn.INSTANCE
    }
    if (value instanceof Map) {
      JSONObjectStandIn copy = new JSONObjectStandIn()
      value.each { key, item -> copy.put(key, toNetSfJson(item)) }
      return copy
    }
    if (value instanceof List) {
      return new ArrayList(value.collect { toNetSfJson(it) })
    }
    return value
  }

  private String pwd(Map arguments) {
    return arguments.tmp ? tmpDirectory().path : workspace.path
  }

  /** workspace@tmp, as Jenkins names a workspace's temporary directory. */
  File tmpDirectory() {
    File directory = new File(workspace.path + '@tmp')
    directory.mkdirs()
    return directory
  }

  private File resolve(String path) {
    File file = new File(path)
    return file.absolute ? file : new File(workspace, path)
  }

  private static String argument(Object arguments, String name) {
    return arguments instanceof Map ? arguments[name] : arguments.toString()
  }
}

/** What error() throws: a failed build, as Jenkins' AbortException. */
class PipelineError extends RuntimeException {
  PipelineError(String message) { super(message) }
}

/** The `env` global: reads the environment now, as env.NAME. */
class EnvStandIn {
  private final PipelineStandIn m_pipeline

  EnvStandIn(PipelineStandIn pipeline) { m_pipeline = pipeline }

  Object propertyMissing(String name) { return m_pipeline.environment()[name] }

  Object getAt(String name) { return m_pipeline.environment()[name] }
}
