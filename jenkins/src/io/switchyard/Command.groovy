package io.switchyard

/**
 * One switchyard command line, built as an argument vector and quoted for a
 * POSIX shell, so nothing a caller passes is ever interpreted by the shell.
 * Serializable so it survives a pipeline restart between steps. Plain loops
 * rather than closures keep it safe under Jenkins' CPS transformation.
 */
class Command implements Serializable {
  private static final long serialVersionUID = 1L

  /** The step executables (steps/<name>/ in the source tree; a test keeps the two equal). */
  static final List<String> STEPS = [
    'build-jar', 'push-artifact', 'request-deploy', 'verify-health', 'switch-traffic', 'rollback',
  ]

  /** The whole pipeline: `switchyard run`. */
  static final String PIPELINE = 'run'

  /** What each documented exit code means (DESIGN.md, "Exit codes"). */
  static final Map<Integer, String> EXIT_CODES = [
    0  : 'success',
    1  : 'the operation failed and the service was left as it was',
    2  : 'bad usage, configuration or input',
    3  : 'something the step needs is unavailable',
    4  : 'another deploy holds the lock',
    130: 'interrupted',
  ]

  /** The exit code of `sh` when the shell finds no `switchyard` on PATH. */
  static final int NOT_FOUND = 127

  final String step
  final List<String> argv

  /**
   * The command for `step` with `args` as they are, then `--config
   * configPath` and `--env environment` when given, then `--json`.
   * Throws IllegalArgumentException naming the problem for an unknown step
   * or a null argument.
   */
  Command(String step, List args, String configPath, String environment) {
    if (!(step in STEPS) && step != PIPELINE) {
      throw new IllegalArgumentException(
        "switchyard: '${step}' is not a switchyard step; use one of ${STEPS.join(', ')}, " +
        'or no step for the whole pipeline')
    }
    this.step = step
    List<String> words = ['switchyard', step]
    for (int i = 0; i < args.size(); i++) {
      if (args[i] == null) {
        throw new IllegalArgumentException(
          "switchyard ${step}: args[${i}] is null; pass every flag and value as a string")
      }
      words << args[i].toString()
    }
    if (configPath) {
      words << '--config' << configPath
    }
    if (environment) {
      words << '--env' << environment
    }
    words << '--json'
    this.argv = words
  }

  /** Single-quotes `word` for sh: it's becomes 'it'\''s'. */
  static String quote(String word) {
    return "'" + word.replace("'", "'\\''") + "'"
  }

  /** The command line for an `sh` step: every word single-quoted. */
  String shellLine() {
    List<String> quoted = []
    for (String word : argv) {
      quoted << quote(word)
    }
    return quoted.join(' ')
  }

  /**
   * The script for the `sh` step: exit 127 when switchyard is not on PATH,
   * else run the command with its --json result (stdout) going to the file
   * named by $SWITCHYARD_RESULT_FILE. The shell, not Groovy, expands that
   * variable; no secret is ever part of this text.
   */
  String script() {
    return 'command -v switchyard >/dev/null 2>&1 || exit ' + NOT_FOUND + '\n' +
      shellLine() + ' >"$SWITCHYARD_RESULT_FILE"\n'
  }

  /** "exit code 2 (bad usage, configuration or input)". */
  static String describeExit(int status) {
    String meaning = EXIT_CODES[status]
    return meaning ? "exit code ${status} (${meaning})" : "exit code ${status}"
  }
}
