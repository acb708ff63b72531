package io.switchyard

/**
 * One switchyard command line, built as an argument vector and quoted for a
 * POSIX shell, so nothing a caller passes is ever interpreted by the shell.
 * Serializable so it survives a pipeline restart between steps.
 */
class Command implements Serializable {
  private static final long serialVersionUID = 1L

  static final List<String> STEPS = [
    'build-jar', 'push-artifact', 'request-deploy', 'verify-health', 'switch-traffic', 'rollback',
  ]

  final List<String> argv

  Command(String step, List args, String configPath, String environment) {
    if (!(step in STEPS)) {
      throw new IllegalArgumentException(
        "switchyard: '${step}' is not a switchyard step; use one of ${STEPS.join(', ')}")
    }
    List<String> words = ['switchyard', step]
    args.each { words << it.toString() }
    if (configPath) {
      words << '--config' << configPath
    }
    if (environment) {
      words << '--env' << environment
    }
    words << '--json'
    this.argv = words
  }

  /** Single-quotes `word` for sh: 'it'\''s' for it's. */
  static String quote(String word) {
    return "'" + word.replace("'", "'\\''") + "'"
  }

  /** The command line for an `sh` step. */
  String shellLine() {
    return argv.collect { quote(it) }.join(' ')
  }
}
