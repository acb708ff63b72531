/**
 * Loads jenkins/vars the way Jenkins exposes a shared library's globals, and
 * stands in for the declarative keywords of a Jenkinsfile, for the tests.
 */
class JenkinsLibrary {
  /**
   * Parses every vars/*.groovy into `binding` as a global variable named
   * after its file; `check(name, result)` sees what each call() returns.
   * Returns the globals by name.
   */
  static Map load(GroovyShell shell, Binding binding, File varsDir, Closure check) {
    Map vars = [:]
    for (File file : varsDir.listFiles().findAll { it.name.endsWith('.groovy') }) {
      String name = file.name - '.groovy'
      Script script = shell.parse(file)
      script.binding = binding
      GlobalVariable global = new GlobalVariable(name: name, script: script, check: check)
      vars[name] = global
      binding.setVariable(name, global)
    }
    return vars
  }

  /**
   * The declarative keywords (pipeline, agent, stages, stage, steps, script,
   * when, options, ...) as closures that run their block, and `environment
   * { }` assigning into `environment`. This runs a Jenkinsfile's steps in
   * order; it is not Jenkins' own validation of the pipeline.
   */
  static void bindDeclarative(Binding binding, Map environment) {
    Closure runBlock = { Object... arguments ->
      if (arguments && arguments[-1] instanceof Closure) {
        arguments[-1].call()
      }
    }
    for (String keyword : ['pipeline', 'agent', 'options', 'stages', 'stage', 'steps', 'script', 'when',
                           'anyOf', 'branch', 'label', 'disableConcurrentBuilds', 'timestamps', 'timeout']) {
      binding.setVariable(keyword, runBlock)
    }
    binding.setVariable('any', 'any')  // agent any
    // Assignments in environment {} set env; `env.X` inside it still reads env.
    binding.setVariable('environment', { Closure block ->
      block.resolveStrategy = Closure.DELEGATE_FIRST
      block.delegate = environment
      environment.env = environment
      block.call()
      environment.remove('env')
    })
  }
}

/**
 * A global variable as Jenkins exposes one: `name(...)` runs its call(), and
 * `name.method(...)` its other methods. What call() returns goes through `check`.
 */
class GlobalVariable {
  String name
  Script script
  Closure check

  Object call(Map config = [:]) {
    Object result = script.invokeMethod('call', config)
    check(name, result)
    return result
  }

  Object methodMissing(String method, Object arguments) {
    return script.invokeMethod(method, arguments)
  }
}
