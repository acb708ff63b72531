import java.lang.annotation.Retention
import java.lang.annotation.RetentionPolicy

/**
 * Stands in for Jenkins' @Library annotation
 * (org.jenkinsci.plugins.workflow.libs.Library), so that a Jenkinsfile
 * starting with `@Library('switchyard') _` compiles under plain Groovy.
 */
@Retention(RetentionPolicy.SOURCE)
@interface Library {
  String[] value()
}
