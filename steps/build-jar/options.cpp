#include "steps/build-jar/options.hpp"

namespace switchyard::steps::build_jar {

void add_flags(CLI::App& app, CommonOptions& common) {
  add_config_flag(app, common, "--project", "build.project_dir",
                  "the project directory (build.project_dir; default: the current directory)")
      ->type_name("DIR");
  add_config_flag(app, common, "--tool", "build.tool",
                  "auto, gradle, maven or command (build.tool; default auto: build.command, "
                  "else ./gradlew, ./mvnw, gradle, mvn)")
      ->type_name("TOOL");
  add_config_flag(app, common, "--jar", "build.jar",
                  "glob picking the jar when several are built (build.jar); matches the file "
                  "name, or the path under the project when it holds a '/'")
      ->type_name("GLOB");
  add_config_flag(app, common, "--release-template", "build.release_template",
                  "the release label template (build.release_template; default "
                  "{project_version}-{short_sha}; also {sha}, {branch}, {build}, {time})")
      ->type_name("T");
  app.footer(
      "Maven runs `mvn -B -ntp package -DskipTests`, Gradle `gradle --no-daemon\n"
      "--console=plain bootJar` (with the Spring Boot plugin, else `assemble`), each\n"
      "through its wrapper when the project has one. build.args adds arguments (e.g. [-o,\n"
      "-Dmaven.repo.local=/usr/share/maven-repo] to build offline); build.command replaces\n"
      "the build with an argument vector. -dirty is added to the release label when the\n"
      "work tree has uncommitted changes.\n\n" +
      std::string(k_exit_codes_help));
}

Result<Options> options_from_config(const Config& config) {
  Options options;
  auto project = config.string("build.project_dir");
  if (!project) return project.error();
  options.project_dir =
      project->empty() ? std::filesystem::path(".") : std::filesystem::path(*project);

  auto tool_text = config.string("build.tool");
  if (!tool_text) return tool_text.error();
  auto tool = parse_tool(*tool_text, config.origin("build.tool"));
  if (!tool) return tool.error();
  options.tool = *tool;

  SWITCHYARD_READ(options.command, config.string_list("build.command"));
  SWITCHYARD_READ(options.extra_args, config.string_list("build.args"));

  SWITCHYARD_READ(options.jar_glob, config.string("build.jar"));

  auto release_template = config.string("build.release_template");
  if (!release_template) return release_template.error();
  if (!release_template->empty()) options.release_template = *release_template;
  // Messages about the template name where it came from, as the config's own do.
  options.release_template_origin =
      config.origin("build.release_template") + ": build.release_template";

  SWITCHYARD_READ(options.app, config.string("app"));
  return options;
}

int run(int argc, char** argv) {
  CLI::App app{
      "Build the service with its own tool (./gradlew, ./mvnw, gradle, mvn or build.command),\n"
      "find the runnable jar, label it, and write <jar>.manifest.json beside it."};
  CommonOptions common;
  add_common_options(app, common, /*changes_anything=*/true);
  add_flags(app, common);
  return run_step("build-jar", app, common, argc, argv, [&](StepContext& context) -> Result<void> {
    auto config = context.load_config();
    if (!config) return config.error();
    auto options = options_from_config(*config);
    if (!options) return options.error();
    options->dry_run = context.options.dry_run;
    return build(*options, context.result);
  });
}

}  // namespace switchyard::steps::build_jar
