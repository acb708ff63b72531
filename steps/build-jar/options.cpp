#include "steps/build-jar/options.hpp"

namespace switchyard::build_jar {

void add_flags(CLI::App& app, Flags& flags) {
  app.add_option("--project", flags.project,
                 "the project directory (build.project_dir; default: the current directory)");
  app.add_option("--tool", flags.tool,
                 "auto, gradle, maven or command (build.tool; default auto: build.command, else "
                 "./gradlew, ./mvnw, gradle, mvn)");
  app.add_option("--jar", flags.jar,
                 "glob picking the jar when several are built (build.jar); matches the file "
                 "name, or the path under the project when it holds a '/'");
  // --version takes the template; alone it prints the program's version, as
  // on every other switchyard command. The common version flag gives way.
  app.set_version_flag("");
  CLI::Option* version =
      app.add_option("--version", flags.version,
                     "the release label template (build.version; default "
                     "{project_version}-{short_sha}; also {sha}, {branch}, {build}, {time}); "
                     "alone, print the program's version")
          ->expected(0, 1);
  app.parse_complete_callback([version, &flags] {
    if (version->count() > 0 && flags.version.empty()) {
      throw CLI::CallForVersion(std::string(SWITCHYARD_VERSION), 0);
    }
  });
  app.footer(
      "Maven runs `mvn -B -ntp package -DskipTests`, Gradle `gradle --no-daemon\n"
      "--console=plain bootJar` (with the Spring Boot plugin, else `assemble`), each\n"
      "through its wrapper when the project has one. build.args adds arguments (e.g. [-o,\n"
      "-Dmaven.repo.local=/usr/share/maven-repo] to build offline); build.command replaces\n"
      "the build with an argument vector. -dirty is added to the version when the work tree\n"
      "has uncommitted changes.\n\n" +
      std::string(k_exit_codes_help));
}

std::map<std::string, std::string> flag_values(const Flags& flags) {
  std::map<std::string, std::string> values;
  if (!flags.project.empty()) values["build.project_dir"] = flags.project;
  if (!flags.tool.empty()) values["build.tool"] = flags.tool;
  if (!flags.jar.empty()) values["build.jar"] = flags.jar;
  if (!flags.version.empty()) values["build.version"] = flags.version;
  return values;
}

Result<Options> options_from_config(const Config& config, const Flags& flags) {
  Options options;
  auto project = config.string("build.project_dir");
  if (!project) return project.error();
  options.project_dir =
      project->empty() ? std::filesystem::path(".") : std::filesystem::path(*project);

  auto tool_text = config.string("build.tool");
  if (!tool_text) return tool_text.error();
  auto tool = parse_tool(*tool_text, flags.tool.empty() ? config.origin("build.tool") : "--tool");
  if (!tool) return tool.error();
  options.tool = *tool;

  auto command = config.string_list("build.command");
  if (!command) return command.error();
  options.command = *command;
  auto args = config.string_list("build.args");
  if (!args) return args.error();
  options.extra_args = *args;

  auto jar = config.string("build.jar");
  if (!jar) return jar.error();
  options.jar_glob = *jar;

  auto version = config.string("build.version");
  if (!version) return version.error();
  if (!version->empty()) options.version_template = *version;
  options.version_origin = flags.version.empty() ? config.origin("build.version") : "--version";

  auto app = config.string("app");
  if (!app) return app.error();
  options.app = *app;
  return options;
}

}  // namespace switchyard::build_jar
